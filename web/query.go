package web

import (
	"net/url"

	"github.com/berth/berth/store"
)

// nonEmpty drops blank parameters, which a GET form sends for unset fields.
func nonEmpty(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				out.Add(k, v)
			}
		}
	}
	return out
}

// hasBlank reports whether any parameter is blank.
func hasBlank(q url.Values) bool {
	for _, vs := range q {
		for _, v := range vs {
			if v == "" {
				return true
			}
		}
	}
	return false
}

// textOnly reports whether every value is text a filter could mean (see
// store.CheckText), so an explanation may quote it.
func textOnly(values []string) bool {
	for _, v := range values {
		if store.CheckText("", v) != nil {
			return false
		}
	}
	return true
}
