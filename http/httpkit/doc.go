// Package httpkit holds what the JSON API (package http) and the web pages (package web) both use:
// problem details, the client's address behind trusted proxies, the public addresses printed in QR
// codes, the store-unavailable test, the CSV writer and the form idempotency key. It imports
// neither of them, so both can import it.
package httpkit
