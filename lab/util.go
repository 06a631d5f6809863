package lab

import (
	"crypto/sha256"
	"encoding/hex"
)

func fingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}
