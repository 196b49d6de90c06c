package access

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a secrets key: AES-256.
const KeySize = 32

// sealVersion is the first byte of a sealed secret; fingerprintSize bytes of the key's
// SHA-256 follow it, then the GCM nonce and the ciphertext.
const (
	sealVersion     = 1
	fingerprintSize = 4
)

// Sealer seals and opens secret access keys with AES-256-GCM under a key kept apart from the
// database. It is safe for concurrent use.
type Sealer struct {
	aead        cipher.AEAD
	fingerprint []byte
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets key: must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Sealer{aead: aead, fingerprint: sum[:fingerprintSize]}, nil
}

// Seal encrypts secret, bound to the access key id.
func (s *Sealer) Seal(accessKeyID, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	out := append([]byte{sealVersion}, s.fingerprint...)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, []byte(secret), []byte(accessKeyID)), nil
}

// Open decrypts a sealed secret of the access key id.
func (s *Sealer) Open(accessKeyID string, sealed []byte) (string, error) {
	head := 1 + fingerprintSize
	if len(sealed) < head+s.aead.NonceSize() || sealed[0] != sealVersion {
		return "", fmt.Errorf("access key %s: the stored secret is not in a format this server reads", accessKeyID)
	}
	if !bytes.Equal(sealed[1:head], s.fingerprint) {
		return "", fmt.Errorf("access key %s: its secret was sealed with another secrets key than this server's (fingerprint %x, this key's %x): start the server with the key it was created under",
			accessKeyID, sealed[1:head], s.fingerprint)
	}
	nonce := sealed[head : head+s.aead.NonceSize()]
	plain, err := s.aead.Open(nil, nonce, sealed[head+s.aead.NonceSize():], []byte(accessKeyID))
	if err != nil {
		return "", fmt.Errorf("access key %s: the stored secret does not open with this server's secrets key (tampered with, or moved from another key's row)", accessKeyID)
	}
	return string(plain), nil
}

// ParseKey reads a secrets key written as 64 hex digits or as standard base64 of 32 bytes,
// surrounding white space ignored.
func ParseKey(text string) ([]byte, error) {
	t := strings.TrimSpace(text)
	if b, err := hex.DecodeString(t); err == nil && len(b) == KeySize {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(t); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("secrets key: must be %d bytes written as 64 hex digits or in base64", KeySize)
}

// LoadOrCreateKeyFile reads the secrets key at path; when the file does not exist and create
// is true, it writes a new random key there, readable by its owner only. A key file that
// others may read is refused: it would hand out every secret together with the database.
func LoadOrCreateKeyFile(path string, create bool) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("secrets key file %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) { // another process created it first
				return LoadOrCreateKeyFile(path, false)
			}
			return nil, fmt.Errorf("secrets key file %s: %w", path, err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("secrets key file %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("secrets key file %s: %w", path, err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	// Group-readable is allowed: a Kubernetes Secret mounted with an fsGroup is 0440.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o007 != 0 {
		return nil, fmt.Errorf("secrets key file %s: mode %v lets any user read it; chmod 600 it", path, st.Mode().Perm())
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	return key, nil
}
