package analysis

// firstNonEmpty returns the first of s that is not "" (cmp.Or for strings).
func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
