// Package history checks the history of a fault-injection run against the
// store's promises, in the style of Jepsen's set test adapted to a store
// whose reads return siblings.
//
// A run records every client operation with its outcome, then, once the
// faults are healed and the caller has waited for convergence, reads every
// key through every node. Check compares the two. It is pure and
// deterministic: no I/O, no clock (times arrive as values), and every list
// in the Report is sorted.
//
// # Operations
//
// An Add is a read-modify-write of a set key: it reads the key, adds one
// element to the union of its siblings and writes the union back with the
// read's context. A Write is a blind write of a key never written before,
// whose value is the element. Both are checked the same way: an element
// belongs to the key it was attempted on, and every element is attempted
// at most once in a history.
//
// An operation's outcome is OK (acknowledged), Failed (the store said
// definitely that nothing was applied, or the Add's read failed so nothing
// was written) or Unknown (a timeout, a 503/504 or a dropped connection
// after the write may have been stored).
//
// # Final reads
//
// A final read is one read of one key through one node. Only successful
// final reads (Err empty) are evidence: the elements of a failed read are
// ignored, and a failed read counts in FinalReadErrors. An element is
// present under a key when at least one successful final read of that key
// holds it; duplicates within one read are fine, since siblings can repeat
// an element. Elements compare as exact strings.
//
// # Counts
//
// Attempted is the number of operations; Acknowledged, Failed and Unknown
// split it by outcome.
//
// Lost: acknowledged elements that no successful final read of their key
// holds, although at least one such read succeeded. This is data loss and
// must be 0.
//
// Unverified: acknowledged elements of a key no final read of which
// succeeded (or that was never read), so the run cannot prove them kept.
// It must be 0; a run with unverified elements does not pass.
//
// Stale: acknowledged elements present in some node's successful final
// read of their key but absent from another node's successful final read
// of that key: after the caller's convergence wait, that node's read did
// not yet show an acknowledged write. Stale elements are not lost and do
// not fail the run; they measure convergence.
//
// Unexpected: elements found in a successful final read of a key that no
// operation attempted on that key, whether never attempted at all or
// attempted on another key. They must be 0. An acknowledged element found
// only under the wrong key is both unexpected and lost.
//
// RecoveredUnknown: operations with an Unknown outcome whose element is
// present under their key. This is fine: an unknown outcome may go either
// way, and an unknown element that is absent is fine too.
//
// FailedButPresent: elements of Failed operations present under their
// key: a definite failure that was applied anyway. This is a correctness
// bug and must be 0.
//
// Duplicates: elements attempted by more than one operation. The workload
// promises unique elements, and without that promise an element's fate
// cannot be tied to one outcome, so a history with duplicates does not
// pass.
//
// FinalReadErrors: final reads that failed. DifferingKeys: keys whose
// replicas still differ after convergence, counted by the caller from each
// replica's own copy and copied through.
//
// # Phases
//
// Phases are half-open intervals [Start, End) of the run, such as
// "baseline", "partition" or "healed". An operation belongs to the first
// phase its Start falls in; one starting exactly at a phase's End belongs
// to the next phase, and one in a gap between phases belongs to none
// (OutsidePhases counts those). For each phase the Report gives the
// outcome counts, the availability (OK / Ops, defined as 0 for a phase
// with no operations, and shown as "-" in the table) and the nearest-rank
// p50, p99 and maximum latency (End - Start) of its OK operations, 0 when
// there are none.
//
// Pass is true when Lost, Unexpected, FailedButPresent, Unverified and
// Duplicates are all empty.
package history
