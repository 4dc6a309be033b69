// Command node-egress is where the local API server sends all its traffic for
// nodes, pods and services (kube-apiserver --egress-selector-config-file,
// selection "cluster", HTTPConnect over a unix socket): logs, exec,
// port-forward and the node, pod and service proxies.
//
// It lets exactly two kinds of destination through, and refuses every other
// CONNECT with 403 (so the API server reports the refusal at once):
//
//   - the real node's kubelet: -kubelet-host (the node's Hostname address,
//     "localhost") on -kubelet-port; dialed at 127.0.0.1.
//   - pod addresses in the real node's pod CIDR (-pod-cidr; not its network
//     address nor its first address, the bridge's own), any port, dialed with
//     SO_BINDTODEVICE on the node's bridge (-bridge): a packet for a pod can
//     leave through that bridge and nowhere else, even when no pod holds the
//     address or the bridge is gone.
//
// kwok nodes (kwok-node-N, or their InternalIP 127.0.0.1) and kwok pods
// (10.244.x.x) are refused: nothing the API server is asked to dial leaves
// this machine. Names are never resolved. Standard library only.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type policy struct {
	kubeletHost string
	kubeletPort int
	podCIDR     netip.Prefix
	bridge      string
}

// target: where CONNECT host:port may go, and how to dial it; an error says why not.
func (p policy) target(hostport string) (addr string, bridge string, err error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", "", fmt.Errorf("%q is not host:port", hostport)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", "", fmt.Errorf("%q: bad port", hostport)
	}
	if host == p.kubeletHost && port == p.kubeletPort {
		return net.JoinHostPort("127.0.0.1", portText), "", nil
	}
	ip, err := netip.ParseAddr(host)
	if err == nil && p.podCIDR.IsValid() && p.podCIDR.Contains(ip.Unmap()) &&
		ip.Unmap() != p.podCIDR.Addr() && ip.Unmap() != p.podCIDR.Addr().Next() {
		return net.JoinHostPort(ip.Unmap().String(), portText), p.bridge, nil
	}
	return "", "", fmt.Errorf("%s is not the real node's kubelet (%s:%d) nor in its pod network %s: the local target dials nothing else (kwok nodes and their pods run nothing)",
		hostport, p.kubeletHost, p.kubeletPort, p.podCIDR)
}

func dial(addr, bridge string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if bridge != "" {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, bridge)
			}); err != nil {
				return err
			}
			if serr != nil {
				return fmt.Errorf("bind to device %s: %w", bridge, serr)
			}
			return nil
		}
	}
	return d.Dial("tcp", addr)
}

// refuse answers with the reason in the status line too: the API server quotes only that line
// ("proxy error from ... while dialing X, code 403: 403 <reason>").
func refuse(c net.Conn, code int, msg string) {
	reason := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	if len(reason) > 400 {
		reason = reason[:400]
	}
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, reason, len(msg), msg)
}

func (p policy) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if req.Method != http.MethodConnect {
		refuse(c, http.StatusMethodNotAllowed, "only CONNECT")
		return
	}
	addr, bridge, err := p.target(req.Host)
	if err != nil {
		log.Printf("refused CONNECT %s: %v", req.Host, err)
		refuse(c, http.StatusForbidden, err.Error())
		return
	}
	up, err := dial(addr, bridge)
	if err != nil {
		log.Printf("CONNECT %s: %v", req.Host, err)
		refuse(c, http.StatusBadGateway, err.Error())
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(up, br) // what the client sent, including anything already buffered
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(c, up)
	if uc, ok := c.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	wg.Wait()
}

func main() {
	listen := flag.String("listen", "", "unix socket to listen on (the egress selector's udsName)")
	kubeletHost := flag.String("kubelet-host", "localhost", "the real node's Hostname address")
	kubeletPort := flag.Int("kubelet-port", 10250, "the real node's kubelet port")
	podCIDR := flag.String("pod-cidr", "", "the real node's pod network; empty: no pod is reachable")
	bridge := flag.String("bridge", "", "the bridge that pod network is on")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.LUTC)
	if *listen == "" {
		log.Fatal("-listen is required")
	}
	p := policy{kubeletHost: *kubeletHost, kubeletPort: *kubeletPort, bridge: *bridge}
	if *podCIDR != "" {
		prefix, err := netip.ParsePrefix(*podCIDR)
		if err != nil {
			log.Fatalf("-pod-cidr %q: %v", *podCIDR, err)
		}
		if *bridge == "" {
			log.Fatal("-pod-cidr needs -bridge: pod traffic may leave through that bridge only")
		}
		p.podCIDR = prefix.Masked()
	}
	if err := os.Remove(*listen); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Fatal(err)
	}
	ln, err := net.Listen("unix", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.Chmod(*listen, 0o600); err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s: kubelet %s:%d, pods %s via %s", *listen, p.kubeletHost, p.kubeletPort, p.podCIDR, p.bridge)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go p.serve(c)
	}
}
