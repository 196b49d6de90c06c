package cost_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLookupDefaultCatalog(t *testing.T) {
	cat := cost.DefaultCatalog()
	tests := []struct {
		name, typ, region, zone string
		ct                      cost.CapacityType
		want                    float64
		source                  cost.Source
	}{
		{"on-demand us-west-2", "c5d.9xlarge", "us-west-2", "us-west-2a", cost.OnDemand, 1.728, cost.SourceCatalogOnDemand},
		{"spot us-west-2, explicit", "c5d.9xlarge", "us-west-2", "us-west-2a", cost.Spot, 1.2096, cost.SourceCatalogSpot},
		{"region from zone", "c6a.4xlarge", "", "us-west-2b", cost.Spot, 0.47124, cost.SourceCatalogSpot},
		{"graviton", "c7g.4xlarge", "us-west-2", "", cost.OnDemand, 0.6164, cost.SourceCatalogOnDemand},
		{"us-east-1 on-demand", "c5.4xlarge", "us-east-1", "us-east-1a", cost.OnDemand, 0.68, cost.SourceCatalogOnDemand},
		{"us-east-1 spot by discount", "c5.large", "us-east-1", "", cost.Spot, 0.085 * 0.7, cost.SourceSpotDiscount},
		{"reserved at on-demand", "m5.4xlarge", "us-west-2", "", cost.Reserved, 0.768, cost.SourceCatalogOnDemand},
		{"unknown type", "x9z.large", "us-west-2", "", cost.OnDemand, 0, cost.SourceUnknown},
		{"unknown region", "c5.large", "eu-north-1", "", cost.Spot, 0, cost.SourceUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := cat.Lookup(tc.typ, tc.region, tc.zone, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if p.Source != tc.source || !near(p.Hourly, tc.want) {
				t.Fatalf("Lookup = %+v, want %v from %s", p, tc.want, tc.source)
			}
			if p.Detail == "" {
				t.Fatal("price without a detail")
			}
			if p.Known() != (tc.source != cost.SourceUnknown) {
				t.Fatalf("Known() = %v", p.Known())
			}
		})
	}
}

func TestLookupRejectsBadInput(t *testing.T) {
	cat := cost.DefaultCatalog()
	tests := []struct {
		name, typ, region, zone string
		ct                      cost.CapacityType
		field                   string
	}{
		{"empty type", "", "us-west-2", "", cost.OnDemand, "instanceType"},
		{"type without size", "c5d", "us-west-2", "", cost.OnDemand, "instanceType"},
		{"capacity type", "c5.large", "us-west-2", "", "preemptible", "capacityType"},
		{"empty capacity type", "c5.large", "us-west-2", "", "", "capacityType"},
		{"no region", "c5.large", "", "", cost.OnDemand, "region"},
		{"zone of another region", "c5.large", "us-west-2", "us-east-1a", cost.OnDemand, "zone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cat.Lookup(tc.typ, tc.region, tc.zone, tc.ct)
			var verr *jobs.ValidationError
			if !errors.As(err, &verr) || verr.Field != tc.field || verr.Rule == "" {
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
}

func TestNodePrice(t *testing.T) {
	cat := cost.DefaultCatalog()
	tests := []struct {
		name   string
		node   cost.NodeFacts
		want   float64
		source cost.Source
		detail string
	}{
		{"catalog wins over label", cost.NodeFacts{Name: "n", InstanceType: "c5d.9xlarge", CapacityType: cost.Spot, Zone: "us-west-2a", Region: "us-west-2", PriceLabel: "9.99"},
			1.2096, cost.SourceCatalogSpot, "spot"},
		{"label for a type the catalog lacks", cost.NodeFacts{Name: "n", InstanceType: "g6.24xlarge", CapacityType: cost.Spot, Zone: "us-west-2a", Region: "us-west-2", PriceLabel: "5.139904"},
			5.139904, cost.SourceNodeLabel, "eks-node-viewer/instance-price=5.139904"},
		{"label before spot discount", cost.NodeFacts{Name: "n", InstanceType: "c5.large", CapacityType: cost.Spot, Zone: "us-east-1a", Region: "us-east-1", PriceLabel: "0.03"},
			0.03, cost.SourceNodeLabel, "label"},
		{"label when the region is unknown", cost.NodeFacts{Name: "n", InstanceType: "c5.large", CapacityType: cost.OnDemand, PriceLabel: "0.1"},
			0.1, cost.SourceNodeLabel, "label"},
		{"no capacity type: on-demand, said so", cost.NodeFacts{Name: "n", InstanceType: "m5.4xlarge", Region: "us-west-2"},
			0.768, cost.SourceCatalogOnDemand, "priced as on-demand"},
		{"unknown type, no label", cost.NodeFacts{Name: "n", InstanceType: "x9z.large", CapacityType: cost.Spot, Region: "us-west-2"},
			0, cost.SourceUnknown, "not in the price catalog"},
		{"unknown type, bad label", cost.NodeFacts{Name: "n", InstanceType: "x9z.large", CapacityType: cost.Spot, Region: "us-west-2", PriceLabel: "cheap"},
			0, cost.SourceUnknown, "not in the price catalog"},
		{"no instance type label", cost.NodeFacts{Name: "n", CapacityType: cost.Spot, Region: "us-west-2"},
			0, cost.SourceUnknown, "instanceType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := cat.NodePrice(tc.node)
			if p.Source != tc.source || !near(p.Hourly, tc.want) || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("NodePrice = %+v, want %v from %s with %q", p, tc.want, tc.source, tc.detail)
			}
		})
	}
}

// TestDefaultCatalogCoversSeed checks that every type the seed's NodePool allows (families c5,
// c5a, c5d, c5ad, m5, c6a in 4xlarge/8xlarge/9xlarge where AWS sells them) and the Graviton
// equivalents has an on-demand and an explicit spot price in the sandbox's region.
func TestDefaultCatalogCoversSeed(t *testing.T) {
	cat := cost.DefaultCatalog()
	types := []string{"c5.4xlarge", "c5.9xlarge", "c5a.4xlarge", "c5a.8xlarge", "c5d.4xlarge", "c5d.9xlarge",
		"c5ad.4xlarge", "c5ad.8xlarge", "m5.4xlarge", "m5.8xlarge", "c6a.4xlarge", "c6a.8xlarge",
		"c6g.4xlarge", "c6gd.4xlarge", "m6g.4xlarge", "c7g.4xlarge", "c7gd.8xlarge", "m6gd.8xlarge", "m7g.8xlarge"}
	for _, typ := range types {
		for _, ct := range []cost.CapacityType{cost.OnDemand, cost.Spot} {
			p, err := cat.Lookup(typ, "us-west-2", "us-west-2a", ct)
			if err != nil || p.Source == cost.SourceUnknown || p.Source == cost.SourceSpotDiscount {
				t.Errorf("%s %s: %+v %v", typ, ct, p, err)
			}
		}
	}
	if n := len(cat.Types("us-west-2")); n < 100 {
		t.Errorf("us-west-2 has %d types", n)
	}
	if src := cat.Sources(); len(src) != 1 || !strings.Contains(src[0], "2026-11-27") || !strings.Contains(src[0], "kwok") {
		t.Errorf("Sources() = %q: the embedded catalog must state its source and date", src)
	}
}

func TestParseCatalogRejects(t *testing.T) {
	tests := []struct{ name, doc, field string }{
		{"negative price", "regions: {us-west-2: {onDemand: {c5.large: -1}}}", "regions.us-west-2.onDemand.c5.large"},
		{"zero spot", "regions: {us-west-2: {spot: {c5.large: 0}}}", "regions.us-west-2.spot.c5.large"},
		{"bad type", "regions: {us-west-2: {onDemand: {C5: 1}}}", "regions.us-west-2.onDemand.C5"},
		{"bad region", "regions: {mars: {onDemand: {c5.large: 1}}}", "regions.mars"},
		{"zone outside region", "regions: {us-west-2: {spotByZone: {us-east-1a: {c5.large: 1}}}}", "regions.us-west-2.spotByZone.us-east-1a"},
		{"discount over 1", "spotDiscount: {c5: 1.2}", "spotDiscount.c5"},
		{"discount family", "spotDiscount: {C5!: 0.1}", "spotDiscount.C5!"},
		{"split zero", "split: {cpuCoreHour: 0, memoryGiBHour: 1}", "split.cpuCoreHour"},
		{"unknown field", "regoins: {}", "catalog"},
		{"not yaml", "regions: [", "catalog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cost.ParseCatalog([]byte(tc.doc))
			var verr *jobs.ValidationError
			if !errors.As(err, &verr) || verr.Field != tc.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
}

func TestLoadCatalogOverlays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prices.yaml")
	doc := `source: our negotiated rates
date: "2026-10-01"
spotDiscount: {c5: 0.6}
regions:
  us-west-2:
    onDemand: {c5d.9xlarge: 1.5}
    spotByZone: {us-west-2a: {c5d.9xlarge: 0.5}}
  eu-west-1:
    onDemand: {m5.large: 0.107}
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := cost.LoadCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(typ, region, zone string, ct cost.CapacityType, want float64, src cost.Source) {
		t.Helper()
		p, err := cat.Lookup(typ, region, zone, ct)
		if err != nil || !near(p.Hourly, want) || p.Source != src {
			t.Errorf("%s %s %s: %+v %v, want %v from %s", typ, zone, ct, p, err, want, src)
		}
	}
	check("c5d.9xlarge", "us-west-2", "us-west-2a", cost.OnDemand, 1.5, cost.SourceCatalogOnDemand)
	check("c5d.9xlarge", "us-west-2", "us-west-2a", cost.Spot, 0.5, cost.SourceCatalogSpot)
	check("c5d.9xlarge", "us-west-2", "us-west-2b", cost.Spot, 1.2096, cost.SourceCatalogSpot) // kept from the default
	check("c5.large", "us-east-1", "", cost.Spot, 0.085*0.4, cost.SourceSpotDiscount)
	check("m5.large", "eu-west-1", "", cost.OnDemand, 0.107, cost.SourceCatalogOnDemand)
	if src := cat.Sources(); len(src) != 2 || !strings.Contains(src[1], "negotiated") {
		t.Errorf("Sources() = %q", src)
	}
	if _, err := cost.LoadCatalog(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadCatalog of a missing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("regions: {us-west-2: {onDemand: {c5.large: -1}}}"), 0o600)
	if _, err := cost.LoadCatalog(bad); err == nil || !strings.Contains(err.Error(), "regions.us-west-2.onDemand.c5.large") {
		t.Errorf("LoadCatalog of a bad file: %v", err)
	}
}

func TestRegionOfZone(t *testing.T) {
	for zone, want := range map[string]string{"us-west-2a": "us-west-2", "eu-central-1c": "eu-central-1", "us-east-1-bos-1a": "us-east-1-bos-1", "": "", "local": "", "2a": ""} {
		if got := cost.RegionOfZone(zone); got != want {
			t.Errorf("RegionOfZone(%q) = %q, want %q", zone, got, want)
		}
	}
}
