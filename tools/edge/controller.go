package main

import (
	"context"
	"log"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
)

// controller: any change to a watched kind pokes one loop that compiles the whole
// state, swaps the proxy's table, opens or closes sockets and writes status.
type controller struct {
	kube     kubernetes.Interface
	gwc      gwclient.Interface
	core     informers.SharedInformerFactory
	gwf      gwinformers.SharedInformerFactory
	settings settings
	proxy    *proxy
	sockets  *sockets
	poke     chan struct{}
	ready    atomic.Bool
	synced   []cache.InformerSynced
}

func (c *controller) watch() {
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.wake() },
		UpdateFunc: func(any, any) { c.wake() },
		DeleteFunc: func(any) { c.wake() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		c.core.Core().V1().Services().Informer(), c.core.Core().V1().Secrets().Informer(),
		c.core.Core().V1().Namespaces().Informer(), c.core.Networking().V1().Ingresses().Informer(),
		c.core.Networking().V1().IngressClasses().Informer(),
		c.gwf.Gateway().V1().GatewayClasses().Informer(), c.gwf.Gateway().V1().Gateways().Informer(),
		c.gwf.Gateway().V1().HTTPRoutes().Informer(), c.gwf.Gateway().V1().ReferenceGrants().Informer(),
	} {
		_, _ = inf.AddEventHandler(h)
		c.synced = append(c.synced, inf.HasSynced)
	}
	// endpoints are read per request; their informer only has to run
	c.synced = append(c.synced, c.core.Discovery().V1().EndpointSlices().Informer().HasSynced)
}

func (c *controller) wake() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (c *controller) run(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	w := writer{kube: c.kube, gateway: c.gwc, controllerName: c.settings.controllerName}
	resync := time.NewTicker(30 * time.Second)
	defer resync.Stop()
	failures := 0 // passes in a row whose status writes failed: the next retry waits 1 s, 2 s, ... 30 s
	for {
		s := c.snapshot()
		cfg := c.settings
		cfg.bindErrors = c.sockets.bindErrors()
		out := compile(s, cfg)
		c.proxy.current.Store(out.table)
		if c.sockets.reconcile(out.table) {
			c.wake()
		}
		c.ready.Store(true)
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		n, errs := w.write(wctx, s, out)
		cancel()
		for _, err := range errs {
			log.Printf("status: %v", err)
		}
		if n > 0 {
			log.Printf("status written on %d objects", n)
		}
		retry := time.After(time.Hour)
		if len(errs) > 0 {
			failures++
			retry = time.After(min(30*time.Second, time.Second<<min(failures-1, 5)))
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-c.poke:
			time.Sleep(50 * time.Millisecond) // one compile for a burst of events
		case <-resync.C:
		case <-retry:
		}
	}
}

func (c *controller) snapshot() *snapshot {
	all := labels.Everything()
	s := &snapshot{services: map[string]*corev1Service{}, secrets: map[string]*corev1Secret{}, namespaces: map[string]*corev1Namespace{}}
	s.classes, _ = c.gwf.Gateway().V1().GatewayClasses().Lister().List(all)
	s.gateways, _ = c.gwf.Gateway().V1().Gateways().Lister().List(all)
	s.routes, _ = c.gwf.Gateway().V1().HTTPRoutes().Lister().List(all)
	s.grants, _ = c.gwf.Gateway().V1().ReferenceGrants().Lister().List(all)
	s.ingresses, _ = c.core.Networking().V1().Ingresses().Lister().List(all)
	s.ingressClasses, _ = c.core.Networking().V1().IngressClasses().Lister().List(all)
	services, _ := c.core.Core().V1().Services().Lister().List(all)
	for _, o := range services {
		s.services[key(o.Namespace, o.Name)] = o
	}
	secrets, _ := c.core.Core().V1().Secrets().Lister().List(all)
	for _, o := range secrets {
		s.secrets[key(o.Namespace, o.Name)] = o
	}
	namespaces, _ := c.core.Core().V1().Namespaces().Lister().List(all)
	for _, o := range namespaces {
		s.namespaces[o.Name] = o
	}
	return s
}
