package web

import "net/url"

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
