// Command edge is the local target's ingress and Gateway API controller: it
// serves Ingresses of the class AKS's application routing add-on uses and
// Gateways of the classes naming its controller, on loopback addresses, and
// proxies to the real node's pods on its bridge. AKS's managed controllers
// replace it in production; the Gateway API conformance suite (conformance/)
// checks that it behaves as they do for the features it claims (features.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
	controllerName := flag.String("controller-name", "archetype.local/edge", "GatewayClass spec.controllerName served")
	ingressController := flag.String("ingress-controller", "webapprouting.kubernetes.azure.com/nginx", "IngressClass spec.controller served")
	ingressIP := flag.String("ingress-ip", "127.0.0.1", "loopback address Ingresses are served on")
	ingressHTTP := flag.Int("ingress-http-port", 80, "Ingress HTTP port")
	ingressHTTPS := flag.Int("ingress-https-port", 443, "Ingress HTTPS port")
	gatewayIPs := flag.String("gateway-ips", "127.0.0.2-127.0.0.254", "loopback addresses given to Gateways, one each")
	podCIDR := flag.String("pod-cidr", "", "the real node's pod CIDR: the only addresses proxied to")
	bridge := flag.String("bridge", "", "the real node's bridge: requests to pods leave through it only")
	health := flag.String("health", "127.0.0.1:10280", "/healthz and /readyz")
	flag.Parse()

	pool, err := ipRange(*gatewayIPs)
	check(err)
	for _, ip := range append(pool, *ingressIP) {
		if a, _ := netip.ParseAddr(ip); !a.IsLoopback() {
			check(fmt.Errorf("%s is not a loopback address: the local target listens on loopback only", ip))
		}
	}
	cidr, err := netip.ParsePrefix(*podCIDR)
	check(err)
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	check(err)
	cfg.UserAgent = "archetype-edge"
	kube := kubernetes.NewForConfigOrDie(cfg)
	gwc := gwclient.NewForConfigOrDie(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	core := informers.NewSharedInformerFactory(kube, 10*time.Minute)
	gwf := gwinformers.NewSharedInformerFactory(gwc, 10*time.Minute)
	c := &controller{
		kube: kube, gwc: gwc, core: core, gwf: gwf, poke: make(chan struct{}, 1),
		settings: settings{controllerName: *controllerName, ingressController: *ingressController, ingressIP: *ingressIP,
			ingressHTTP: int32(*ingressHTTP), ingressHTTPS: int32(*ingressHTTPS), gatewayIPs: pool},
	}
	slices := core.Discovery().V1().EndpointSlices().Lister()
	c.proxy = newProxy(podNetwork{cidr: cidr, bridge: *bridge}, func(ns, svc string) []*discoveryv1.EndpointSlice {
		out, _ := slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc}))
		return out
	})
	c.sockets = newSockets(c.proxy)
	c.watch()
	core.Start(ctx.Done())
	gwf.Start(ctx.Done())
	go serveHealth(*health, c)
	log.Printf("edge %s: Ingress class controller %s on %s, GatewayClass controller %s on %s, pods %s via %s",
		"started", *ingressController, *ingressIP, *controllerName, *gatewayIPs, cidr, *bridge)
	c.run(ctx)
	c.sockets.closeAll()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// ipRange: "a.b.c.d-a.b.c.e", both ends included.
func ipRange(s string) ([]string, error) {
	from, to, ok := strings.Cut(s, "-")
	a, errA := netip.ParseAddr(from)
	b, errB := netip.ParseAddr(to)
	if !ok || errA != nil || errB != nil || b.Less(a) {
		return nil, fmt.Errorf("-gateway-ips %q: want first-last, e.g. 127.0.0.2-127.0.0.254", s)
	}
	var out []string
	for ip := a; ip.Compare(b) <= 0 && len(out) < 1024; ip = ip.Next() {
		out = append(out, ip.String())
	}
	return out, nil
}

func serveHealth(addr string, c *controller) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.ready.Load() {
			http.Error(w, "caches not synced yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", addr)
	check(err)
	check(http.Serve(ln, mux))
}
