package httpkit

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// QR codes printed on receipts and result documents: the receipt's leads to the public lookup page
// (with the rating secret, so the applicant can rate from their phone), the result's to the page that
// checks the result is genuine. The API serves them as images, the printable forms embed them.

const (
	qrModulePixels = 8 // a module of 1 mm at 200 dpi: scannable from a creased receipt
	qrQuietModules = 4 // the white border ISO/IEC 18004 requires around the symbol
)

// QRPNG encodes text as a QR code PNG with medium error correction and its quiet zone.
func QRPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	modules := code.Bounds().Dx()
	side := (modules + 2*qrQuietModules) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y := range modules {
		for x := range modules {
			if color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y < 128 {
				left, top := (x+qrQuietModules)*qrModulePixels, (y+qrQuietModules)*qrModulePixels
				cell := image.Rect(left, top, left+qrModulePixels, top+qrModulePixels)
				draw.Draw(img, cell, image.Black, image.Point{}, draw.Src)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
