package certs

// checkKeyMode does nothing on Windows: the key lives in the user's
// profile (%AppData%), whose ACL already limits it to the user.
func checkKeyMode(string) error { return nil }
