package httpkit

import "errors"

// ErrSecretChecksLimited: the client is over its rating-secret check budget or locked out.
var ErrSecretChecksLimited = errors.New("too many rating-secret checks")
