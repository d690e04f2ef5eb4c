//go:build !linux

package capture

import "errors"

// OpenLive is only available on Linux (AF_PACKET).
func OpenLive(iface string, cfg LiveConfig) (Source, error) {
	return nil, errors.New("capture: live capture needs Linux AF_PACKET")
}
