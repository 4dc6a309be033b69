// Package conformance runs the upstream Gateway API conformance suite against
// the local target's controller (tools/edge), with the suite's own manifests
// moved onto the real node: its echo server built here and pushed to the local
// registry, the real node's nodeSelector, toleration and pull secret.
package conformance

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// realNode: what a pod needs to run on the local target's real node.
type realNode struct {
	image      string // the echo server, in the local registry
	label      string // nodeSelector label (value "true") and taint key
	pullSecret string
}

// manifestFS serves the suite's manifests with every Deployment and Pod moved onto the real node.
type manifestFS struct {
	base fs.FS
	node realNode
	// dropped: base Deployments whose images are not built here (the suite's
	// CoreDNS, for tests of features not claimed)
	dropped map[string]bool
}

func (m manifestFS) Open(name string) (fs.File, error) {
	f, err := m.base.Open(name)
	if err != nil || !strings.HasSuffix(name, ".yaml") {
		return f, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	out, err := m.rewrite(data)
	if err != nil {
		return nil, &fs.PathError{Op: "rewrite", Path: name, Err: err}
	}
	return &memFile{Reader: bytes.NewReader(out), name: name, size: int64(len(out))}, nil
}

var echoImage = "registry.k8s.io/gateway-api/echo-basic:"

func (m manifestFS) rewrite(data []byte) ([]byte, error) {
	docs := strings.Split(string(data), "\n---")
	var out []string
	for _, doc := range docs {
		kind := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "kind: ") {
				kind = strings.TrimSpace(strings.TrimPrefix(line, "kind: "))
			}
		}
		if kind != "Deployment" && kind != "Pod" {
			out = append(out, doc)
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, err
		}
		meta, _ := obj["metadata"].(map[string]any)
		if kind == "Deployment" && m.dropped[meta["namespace"].(string)+"/"+meta["name"].(string)] {
			continue
		}
		spec, _ := obj["spec"].(map[string]any)
		if kind == "Deployment" {
			spec, _ = spec["template"].(map[string]any)["spec"].(map[string]any)
		}
		m.onRealNode(spec)
		text, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, "\n"+string(text))
	}
	return []byte(strings.Join(out, "\n---")), nil
}

func (m manifestFS) onRealNode(spec map[string]any) {
	spec["nodeSelector"] = map[string]any{m.node.label: "true"}
	tolerations, _ := spec["tolerations"].([]any)
	spec["tolerations"] = append(tolerations, map[string]any{"key": m.node.label, "operator": "Equal", "value": "true", "effect": "NoSchedule"})
	spec["imagePullSecrets"] = []any{map[string]any{"name": m.node.pullSecret}}
	containers, _ := spec["containers"].([]any)
	for _, c := range containers {
		c := c.(map[string]any)
		if image, _ := c["image"].(string); strings.HasPrefix(image, echoImage) {
			c["image"] = m.node.image
		}
	}
}

type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return f.size }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }
