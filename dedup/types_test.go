package dedup

import (
	"reflect"
	"regexp"
	"testing"
)

// TestJSONKeysSnakeCase: the plan types are served on /status?format=json
// next to the collector's own snake_case keys, so every exported field of
// them carries an explicit snake_case json tag (a new field without one
// would show up as "NewField").
func TestJSONKeysSnakeCase(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for _, v := range []any{Plan{}, StorageRoute{}, Repository{}, Warning{}, SuppressedPath{}, PVEListing{}, PBSListing{}} {
		typ := reflect.TypeOf(v)
		seen := map[string]string{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, ok := f.Tag.Lookup("json")
			if !ok || !snake.MatchString(tag) {
				t.Errorf("%s.%s: json tag %q, want a snake_case key", typ.Name(), f.Name, tag)
				continue
			}
			if other, dup := seen[tag]; dup {
				t.Errorf("%s: %s and %s share the key %q", typ.Name(), other, f.Name, tag)
			}
			seen[tag] = f.Name
		}
	}
}
