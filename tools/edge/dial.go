package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// podNetwork is the only place the proxy may send a request: pods of the real
// node, on its bridge. kwok pods (other CIDRs) run nothing, and nothing here
// may leave the machine, so any other endpoint address is refused.
type podNetwork struct {
	cidr   netip.Prefix
	bridge string
}

// check says why addr may not be dialed, or nil.
func (p podNetwork) check(ip string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("endpoint %q is not an IP address", ip)
	}
	a = a.Unmap()
	if !p.cidr.IsValid() || !p.cidr.Contains(a) || a == p.cidr.Addr() || a == p.cidr.Addr().Next() {
		return fmt.Errorf("endpoint %s is not in the real node's pod network %s: the local target dials nothing else (kwok pods run nothing)", ip, p.cidr)
	}
	return nil
}

func (p podNetwork) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if err := p.check(host); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	if p.bridge != "" {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, p.bridge)
			}); err != nil {
				return err
			}
			if serr != nil {
				return fmt.Errorf("bind to device %s: %w", p.bridge, serr)
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}
