package cost

import (
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

//go:embed prices.yaml
var defaultCatalog []byte

// CapacityType is how a node is bought, as Karpenter's karpenter.sh/capacity-type label says.
type CapacityType string

// Capacity types Karpenter sets. Reserved capacity (on-demand capacity reservations) is billed
// at the on-demand rate.
const (
	OnDemand CapacityType = "on-demand"
	Spot     CapacityType = "spot"
	Reserved CapacityType = "reserved"
)

// Source says where a price came from, so a report can show which prices it used.
type Source string

// Price sources, in the order a node's price is looked for (see Catalog.NodePrice).
const (
	// SourceCatalogOnDemand is the catalog's on-demand price of the type in the region.
	SourceCatalogOnDemand Source = "catalog-on-demand"
	// SourceCatalogSpot is an explicit spot price from the catalog (per zone or per region).
	SourceCatalogSpot Source = "catalog-spot"
	// SourceNodeLabel is the node's eks-node-viewer/instance-price label, which Karpenter's
	// kwok provider sets.
	SourceNodeLabel Source = "node-label"
	// SourceSpotDiscount is the catalog's on-demand price less the family's spot discount.
	SourceSpotDiscount Source = "spot-discount"
	// SourceUnknown means no price is known: the type is not in the catalog and the node has
	// no price label. Such pods are reported as unpriced and count as zero, never guessed.
	SourceUnknown Source = "unknown"
)

// PriceLabel is the node label that carries a node's hourly price (set by Karpenter's kwok
// provider, read by eks-node-viewer).
const PriceLabel = "eks-node-viewer/instance-price"

// Price is an hourly price in the catalog's currency and where it came from.
type Price struct {
	Hourly float64 `json:"hourly"`
	Source Source  `json:"source"`
	// Detail is a sentence a person can check, e.g. "us-west-2 c5d.9xlarge spot".
	Detail string `json:"detail"`
}

// Known reports whether a price was found.
func (p Price) Known() bool { return p.Source != SourceUnknown && p.Source != "" }

// Split is the per-unit price ratio by which a node's hourly price is divided between its CPU
// and its memory; only the ratio of the two numbers matters.
type Split struct {
	CPUCoreHour   float64 `json:"cpuCoreHour"`
	MemoryGiBHour float64 `json:"memoryGiBHour"`
}

// Catalog holds hourly instance prices per region. It is read-only once built and safe for
// concurrent use.
type Catalog struct {
	sources      []string
	currency     string
	split        Split
	spotDiscount map[string]float64
	regions      map[string]*regionPrices
}

type regionPrices struct {
	onDemand   map[string]float64
	spot       map[string]float64
	spotByZone map[string]map[string]float64
}

// catalogFile is the YAML (or JSON) schema of a catalog file; see doc.go.
type catalogFile struct {
	Source       string                `json:"source"`
	Date         string                `json:"date"`
	Currency     string                `json:"currency"`
	Split        *Split                `json:"split"`
	SpotDiscount map[string]float64    `json:"spotDiscount"`
	Regions      map[string]regionFile `json:"regions"`
}

type regionFile struct {
	OnDemand   map[string]float64            `json:"onDemand"`
	Spot       map[string]float64            `json:"spot"`
	SpotByZone map[string]map[string]float64 `json:"spotByZone"`
}

// DefaultCatalog returns the embedded catalog (prices.yaml: its source and date are stated in
// the file).
func DefaultCatalog() *Catalog {
	c, err := ParseCatalog(defaultCatalog)
	if err != nil {
		panic("embedded price catalog is invalid: " + err.Error())
	}
	return c
}

// LoadCatalog returns the embedded catalog overlaid with the file at path (YAML or JSON, same
// schema): the file's prices, discounts and split win, everything else is kept. An empty path
// returns the embedded catalog.
func LoadCatalog(path string) (*Catalog, error) {
	base := DefaultCatalog()
	if path == "" {
		return base, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read price catalog: %w", err)
	}
	over, err := ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("price catalog %s: %w", path, err)
	}
	return base.Overlay(over), nil
}

// ParseCatalog decodes and validates one catalog document. Unknown fields, non-positive or
// non-finite prices, discounts outside [0,1), type names without a family and size, and zones
// outside their region are errors naming the field.
func ParseCatalog(data []byte) (*Catalog, error) {
	var f catalogFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, &jobs.ValidationError{Field: "catalog", Rule: "must be YAML or JSON of the price catalog schema: " + err.Error()}
	}
	c := &Catalog{currency: f.Currency, spotDiscount: map[string]float64{}, regions: map[string]*regionPrices{}}
	if c.currency == "" {
		c.currency = "USD"
	}
	if f.Source != "" || f.Date != "" {
		c.sources = append(c.sources, strings.TrimSpace(f.Source+" ("+f.Date+")"))
	}
	if f.Split != nil {
		if !positive(f.Split.CPUCoreHour) {
			return nil, invalid("split.cpuCoreHour", "must be a positive number")
		}
		if !positive(f.Split.MemoryGiBHour) {
			return nil, invalid("split.memoryGiBHour", "must be a positive number")
		}
		c.split = *f.Split
	}
	for family, d := range f.SpotDiscount {
		if family != "default" && !validFamily(family) {
			return nil, invalid("spotDiscount."+family, "must be an instance family (e.g. c5d) or default")
		}
		if math.IsNaN(d) || d < 0 || d >= 1 {
			return nil, invalid("spotDiscount."+family, "must be a fraction in [0, 1)")
		}
		c.spotDiscount[family] = d
	}
	for name, r := range f.Regions {
		field := "regions." + name
		if !validRegion(name) {
			return nil, invalid(field, "must be a region name such as us-west-2")
		}
		rp := &regionPrices{onDemand: map[string]float64{}, spot: map[string]float64{}, spotByZone: map[string]map[string]float64{}}
		if err := copyPrices(rp.onDemand, r.OnDemand, field+".onDemand"); err != nil {
			return nil, err
		}
		if err := copyPrices(rp.spot, r.Spot, field+".spot"); err != nil {
			return nil, err
		}
		for zone, prices := range r.SpotByZone {
			if !strings.HasPrefix(zone, name) || len(zone) == len(name) {
				return nil, invalid(field+".spotByZone."+zone, "must be a zone of region "+name+" (e.g. "+name+"a)")
			}
			rp.spotByZone[zone] = map[string]float64{}
			if err := copyPrices(rp.spotByZone[zone], prices, field+".spotByZone."+zone); err != nil {
				return nil, err
			}
		}
		c.regions[name] = rp
	}
	return c, nil
}

// Overlay returns a new catalog with over's entries replacing c's; c and over are unchanged.
func (c *Catalog) Overlay(over *Catalog) *Catalog {
	out := &Catalog{
		sources:      append(append([]string(nil), c.sources...), over.sources...),
		currency:     c.currency,
		split:        c.split,
		spotDiscount: map[string]float64{},
		regions:      map[string]*regionPrices{},
	}
	if over.currency != "" {
		out.currency = over.currency
	}
	if over.split != (Split{}) {
		out.split = over.split
	}
	for _, src := range []*Catalog{c, over} {
		for k, v := range src.spotDiscount {
			out.spotDiscount[k] = v
		}
		for name, r := range src.regions {
			dst := out.regions[name]
			if dst == nil {
				dst = &regionPrices{onDemand: map[string]float64{}, spot: map[string]float64{}, spotByZone: map[string]map[string]float64{}}
				out.regions[name] = dst
			}
			for k, v := range r.onDemand {
				dst.onDemand[k] = v
			}
			for k, v := range r.spot {
				dst.spot[k] = v
			}
			for zone, prices := range r.spotByZone {
				if dst.spotByZone[zone] == nil {
					dst.spotByZone[zone] = map[string]float64{}
				}
				for k, v := range prices {
					dst.spotByZone[zone][k] = v
				}
			}
		}
	}
	return out
}

// Sources lists the stated source and date of each layer of the catalog, base first.
func (c *Catalog) Sources() []string { return append([]string(nil), c.sources...) }

// Currency is the currency of every price in the catalog (USD by default).
func (c *Catalog) Currency() string { return c.currency }

// Split is the CPU:memory unit price ratio used to divide a node's price. When no layer sets
// one, OpenCost's default ($0.031611 per vCPU-hour : $0.004237 per GiB-hour) applies.
func (c *Catalog) Split() Split {
	if c.split == (Split{}) {
		return Split{CPUCoreHour: 0.031611, MemoryGiBHour: 0.004237}
	}
	return c.split
}

// Lookup returns the hourly price of instanceType bought as capacityType in region and zone,
// and where it came from. An empty region is taken from the zone ("us-west-2a" is in
// "us-west-2"). Spot is the zone's explicit spot price, else the region's, else on-demand less
// the family's spotDiscount. Reserved is priced as on-demand. A type the catalog does not know
// gets a Price with SourceUnknown and no error; malformed arguments get a
// *jobs.ValidationError.
func (c *Catalog) Lookup(instanceType, region, zone string, capacityType CapacityType) (Price, error) {
	if !validType(instanceType) {
		return Price{}, invalid("instanceType", "must be an instance type such as c5d.9xlarge, got "+strconv.Quote(instanceType))
	}
	switch capacityType {
	case OnDemand, Spot, Reserved:
	default:
		return Price{}, invalid("capacityType", "must be on-demand, spot or reserved, got "+strconv.Quote(string(capacityType)))
	}
	if region == "" {
		region = RegionOfZone(zone)
	}
	if region == "" {
		return Price{}, invalid("region", "must be given, or a zone such as us-west-2a from which it follows")
	}
	if zone != "" && !strings.HasPrefix(zone, region) {
		return Price{}, invalid("zone", "must be a zone of region "+region+", got "+strconv.Quote(zone))
	}
	r := c.regions[region]
	unknown := Price{Source: SourceUnknown, Detail: fmt.Sprintf("%s %s %s: not in the price catalog", region, instanceType, capacityType)}
	if r == nil {
		return unknown, nil
	}
	od, hasOD := r.onDemand[instanceType]
	if capacityType != Spot {
		if !hasOD {
			return unknown, nil
		}
		detail := fmt.Sprintf("%s %s on-demand", region, instanceType)
		if capacityType == Reserved {
			detail += " (reserved capacity is billed at the on-demand rate)"
		}
		return Price{Hourly: od, Source: SourceCatalogOnDemand, Detail: detail}, nil
	}
	if p, ok := r.spotByZone[zone][instanceType]; ok && zone != "" {
		return Price{Hourly: p, Source: SourceCatalogSpot, Detail: fmt.Sprintf("%s %s spot", zone, instanceType)}, nil
	}
	if p, ok := r.spot[instanceType]; ok {
		return Price{Hourly: p, Source: SourceCatalogSpot, Detail: fmt.Sprintf("%s %s spot", region, instanceType)}, nil
	}
	if !hasOD {
		return unknown, nil
	}
	family := familyOf(instanceType)
	d, ok := c.spotDiscount[family]
	if !ok {
		if d, ok = c.spotDiscount["default"]; !ok {
			return Price{Source: SourceUnknown, Detail: fmt.Sprintf("%s %s spot: no spot price and no spotDiscount for family %s", region, instanceType, family)}, nil
		}
	}
	return Price{Hourly: od * (1 - d), Source: SourceSpotDiscount,
		Detail: fmt.Sprintf("%s %s spot: on-demand %s less %s%%", region, instanceType, fmtPrice(od), strconv.FormatFloat(d*100, 'f', -1, 64))}, nil
}

// NodePrice prices a node from its recorded facts: the catalog's explicit price for its type,
// capacity type, region and zone first; else the node's price label; else, for spot, the
// family discount; else SourceUnknown. A node without a capacity-type label is priced as
// on-demand, and the detail says so. The catalog wins over the label so that an operator's
// catalog is what reports use; in the sandbox both come from the same data.
func (c *Catalog) NodePrice(n NodeFacts) Price {
	ct, note := n.CapacityType, ""
	if ct == "" {
		ct, note = OnDemand, " (no karpenter.sh/capacity-type label: priced as on-demand)"
	}
	label, labelErr := parsePriceLabel(n.PriceLabel)
	fromLabel := Price{Hourly: label, Source: SourceNodeLabel, Detail: fmt.Sprintf("node %s label %s=%s", n.Name, PriceLabel, n.PriceLabel)}
	p, err := c.Lookup(n.InstanceType, n.Region, n.Zone, ct)
	if err != nil {
		if labelErr == nil {
			return fromLabel
		}
		return Price{Source: SourceUnknown, Detail: fmt.Sprintf("node %s: %v", n.Name, err)}
	}
	if p.Source == SourceCatalogOnDemand || p.Source == SourceCatalogSpot {
		p.Detail += note
		return p
	}
	if labelErr == nil {
		return fromLabel
	}
	p.Detail += note
	return p
}

// OnDemandPrice is what the node's type would cost on-demand in its region, the baseline of
// spot savings. It never uses the node's price label, which is the price of the node as bought.
func (c *Catalog) OnDemandPrice(n NodeFacts) Price {
	p, err := c.Lookup(n.InstanceType, n.Region, n.Zone, OnDemand)
	if err != nil {
		return Price{Source: SourceUnknown, Detail: fmt.Sprintf("node %s: %v", n.Name, err)}
	}
	return p
}

// RegionOfZone returns the region of an AWS-style zone name ("us-west-2a" -> "us-west-2"), or
// "" when zone does not look like one.
func RegionOfZone(zone string) string {
	i := len(zone)
	for i > 0 && zone[i-1] >= 'a' && zone[i-1] <= 'z' {
		i--
	}
	if i == len(zone) || i == 0 || zone[i-1] < '0' || zone[i-1] > '9' || !strings.Contains(zone[:i], "-") || zone[0] < 'a' || zone[0] > 'z' {
		return ""
	}
	return zone[:i]
}

// Types lists the instance types priced on-demand in region, sorted.
func (c *Catalog) Types(region string) []string {
	r := c.regions[region]
	if r == nil {
		return nil
	}
	out := make([]string, 0, len(r.onDemand))
	for t := range r.onDemand {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func parsePriceLabel(v string) (float64, error) {
	if v == "" {
		return 0, fmt.Errorf("no %s label", PriceLabel)
	}
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || !positive(p) {
		return 0, fmt.Errorf("label %s=%q is not a positive number", PriceLabel, v)
	}
	return p, nil
}

func copyPrices(dst, src map[string]float64, field string) error {
	for t, p := range src {
		if !validType(t) {
			return invalid(field+"."+t, "must be an instance type such as c5d.9xlarge")
		}
		if !positive(p) {
			return invalid(field+"."+t, "must be a positive hourly price")
		}
		dst[t] = p
	}
	return nil
}

func positive(f float64) bool { return f > 0 && !math.IsInf(f, 0) && !math.IsNaN(f) }

func validType(t string) bool {
	family, size, ok := strings.Cut(t, ".")
	return ok && validFamily(family) && size != "" && !strings.ContainsAny(size, " ./")
}

func validFamily(f string) bool {
	if f == "" || f[0] < 'a' || f[0] > 'z' {
		return false
	}
	for _, r := range f {
		lower, digit := r >= 'a' && r <= 'z', r >= '0' && r <= '9'
		if !lower && !digit && r != '-' {
			return false
		}
	}
	return true
}

func validRegion(r string) bool { return RegionOfZone(r+"a") == r }

func familyOf(instanceType string) string {
	f, _, _ := strings.Cut(instanceType, ".")
	return f
}

func fmtPrice(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func invalid(field, rule string) *jobs.ValidationError {
	return &jobs.ValidationError{Field: field, Rule: rule}
}
