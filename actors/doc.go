// Package actors holds the store's actor behaviours: thin shells that decode
// a message from package messages, call a pure core, and send what the core
// says to send. Every actor runs on its own goroutine, as hollywood gives.
//
// The rules every actor here keeps, and an actor you add should keep:
//
//   - never block in Receive: no Request(...).Result(), no sleeps, no
//     network calls. A wait is state in the actor, ended by a reply or by a
//     timer message the actor sends itself;
//   - spawn through Spawn, so that a panic is recovered, logged with the
//     actor and the message type, and counted, instead of restarting the
//     actor with lost state or, on a fourth panic, ending the process;
//   - messages that cross processes are registered in package messages.
//
// See ExampleSpawn for a new behaviour written against this API.
package actors
