#!/bin/sh
# Makes sure poppler-utils is installed, because the tests of the PDF forms (http/pdf_forms_test.go,
# http/printform) read them back with pdftotext and render their pages with pdftoppm to decode the
# QR codes. Installs Debian's poppler-utils package when either program is missing; does nothing,
# quietly, when both are present.
set -eu

has_poppler() {
	command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1
}

if has_poppler; then
	exit 0
fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
	as_root="sudo"
fi

echo "ensure-poppler: installing poppler-utils from Debian's packages" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null

if ! has_poppler; then
	echo "ensure-poppler: installed poppler-utils but found no pdftotext or pdftoppm on PATH" >&2
	exit 1
fi
