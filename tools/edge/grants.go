package main

import gwv1 "sigs.k8s.io/gateway-api/apis/v1"

// granted: does a ReferenceGrant in toNamespace let (fromGroup, fromKind) objects of
// fromNamespace refer to the (toGroup, toKind) object named name there?
func (s *snapshot) granted(fromGroup, fromKind, fromNamespace, toGroup, toKind, toNamespace, name string) bool {
	if fromNamespace == toNamespace {
		return true
	}
	for _, g := range s.grants {
		if g.Namespace != toNamespace {
			continue
		}
		from := false
		for _, f := range g.Spec.From {
			if string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNamespace {
				from = true
				break
			}
		}
		if !from {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || string(*t.Name) == name) {
				return true
			}
		}
	}
	return false
}

var gatewayGroup = gwv1.GroupName
