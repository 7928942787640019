// Package store keeps Gatehouse's durable state: the call history in bbolt and
// provider keys in the OS keychain. It imports neither proxy nor ui.
package store
