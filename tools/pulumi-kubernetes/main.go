// Command pulumi-resource-kubernetes serves the pulumi-kubernetes provider, built from the Go module proxy.
//
// The provider's own main package embeds schema-embed.json and terraform-mapping-embed.json, which its
// Makefile generates and the module does not ship; scripts/install-pulumi-kubernetes generates both from the
// module's schema.json and terraform-mapping.json (version set, as the provider's generate step does) next to
// a copy of this file, then builds it.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
