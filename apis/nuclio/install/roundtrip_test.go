// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package install

import (
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// fuzzerFuncs fills what randfill cannot fill on its own and normalises what decoding would change.
//
//   - freeform.Object holds interface{} values, which randfill leaves empty; fill it with what a JSON
//     decoder can give back unchanged: strings, int64, non-integral float64, bool, null, nested objects
//     and lists. (A whole float such as 3.0 would come back as int64 3, as the Kubernetes JSON decoder
//     keeps integers as int64; that is the decoder's contract, not a loss.)
//   - Objects are decoded with defaulting, so the fuzzed object must already be defaulted or the round
//     trip reports the defaults as a difference. Each top-level object is therefore defaulted through the
//     scheme after filling. That also makes the round trip an idempotence test of defaulting on random
//     input: decoding defaults the already-defaulted object a second time.
//   - intstr.IntOrString only round-trips in the form its Type says.
func fuzzerFuncs(scheme *runtime.Scheme) fuzzer.FuzzerFuncs {
	return func(runtimeserializer.CodecFactory) []interface{} {
		return []interface{}{
			func(o *freeform.Object, c randfill.Continue) {
				if c.Intn(4) == 0 {
					*o = nil
					return
				}
				*o = freeform.Object(jsonObject(c, 0))
			},
			func(v *intstr.IntOrString, c randfill.Continue) {
				if c.Bool() {
					*v = intstr.FromInt32(c.Int31())
				} else {
					*v = intstr.FromString(c.String(0))
				}
			},
			func(f *nuclio.NuclioFunction, c randfill.Continue) {
				c.FillNoCustom(f)
				defaultInternal(scheme, f)
			},
			func(g *nuclio.NuclioAPIGateway, c randfill.Continue) {
				c.FillNoCustom(g)
				defaultInternal(scheme, g)
			},
			func(e *nuclio.NuclioFunctionEvent, c randfill.Continue) {
				c.FillNoCustom(e)
				defaultInternal(scheme, e)
			},
		}
	}
}

// defaultInternal applies the v1beta1 defaulters to an internal object (defaulters are registered for
// the versioned types only): internal → v1beta1 → defaults → internal.
func defaultInternal(scheme *runtime.Scheme, obj runtime.Object) {
	ext, err := scheme.ConvertToVersion(obj.DeepCopyObject(), v1beta1.SchemeGroupVersion)
	if err != nil {
		panic(err)
	}
	scheme.Default(ext)
	if err := scheme.Convert(ext, obj, nil); err != nil {
		panic(err)
	}
}

const maxJSONDepth = 3

func jsonObject(c randfill.Continue, depth int) map[string]interface{} {
	n := c.Intn(4)
	m := make(map[string]interface{}, n)
	for i := 0; i < n; i++ {
		m[c.String(0)] = jsonValue(c, depth+1)
	}
	return m
}

func jsonValue(c randfill.Continue, depth int) interface{} {
	kinds := 7
	if depth >= maxJSONDepth {
		kinds = 5 // scalars only
	}
	switch c.Intn(kinds) {
	case 0:
		return c.String(0)
	case 1:
		return c.Int63() - c.Int63()
	case 2:
		// Non-integral and exactly representable, so it survives formatting and parsing.
		return float64(c.Int31n(1<<20)-1<<19) + 0.25
	case 3:
		return c.Bool()
	case 4:
		return nil
	case 5:
		return jsonObject(c, depth)
	default:
		n := c.Intn(3)
		l := make([]interface{}, n)
		for i := range l {
			l[i] = jsonValue(c, depth+1)
		}
		return l
	}
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	Install(scheme)
	return scheme
}

// TestRoundTripTypes is the standard API machinery check: internal → v1beta1 → JSON → v1beta1 → internal
// loses nothing, for every kind of the group, and deep copies share no memory. The library seeds itself
// randomly on each run, as upstream does; TestRoundTripFixedSeeds below repeats the check with fixed
// seeds so that a failure it finds is reproducible.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, fuzzerFuncs(newScheme()))
}

func TestRoundTripFixedSeeds(t *testing.T) {
	scheme := newScheme()
	codecs := runtimeserializer.NewCodecFactory(scheme)
	for _, seed := range []int64{1, 2, 3, 42, 1234567} {
		f := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, fuzzerFuncs(scheme)), rand.NewSource(seed), codecs)
		roundtrip.RoundTripTypesWithoutProtobuf(t, scheme, codecs, f, nil)
		if t.Failed() {
			t.Fatalf("round trip failed with seed %d", seed)
		}
	}
}
