namespace Conformance.Harness.Fixtures;

/// <summary>
/// What the <see cref="Scrubber"/> replaces with placeholders before a transcript becomes a golden file. The default
/// scrubs everything that differs from run to run for a real agent (ids, keys, DIDs, signatures, blobs, times,
/// ephemeral ports). <see cref="KeepRaw"/> keeps every value as it crossed the wire: use it for agents that are
/// deterministic themselves (the reference agent in seeded mode), so the golden file pins the exact bytes.
/// </summary>
public sealed record ScrubPolicy
{
    /// <summary>Message and thread ids: values of @id/thid/pthid (and of <see cref="IdFields"/>) and UUID-like strings → <c>&lt;id-N&gt;</c>.</summary>
    public bool Ids { get; init; } = true;

    /// <summary>Public keys: base58 32-byte verkeys, multibase keys (z6Mk…, z6LS…), JWK "x" → <c>&lt;key-N&gt;</c>, one number per key.</summary>
    public bool Keys { get; init; } = true;

    /// <summary>DIDs (<c>did:…</c>, and RFC 0160's unqualified 16-byte base58 DIDs) → <c>&lt;did-N&gt;</c>; did:key → <c>&lt;didkey-N&gt;</c>. DID URL paths and fragments are kept.</summary>
    public bool Dids { get; init; } = true;

    /// <summary>Signatures (64-byte base64url, JWS compact signature parts) → <c>&lt;sig-N&gt;</c>.</summary>
    public bool Signatures { get; init; } = true;

    /// <summary>Other base64 blobs (ciphertexts, ivs, opaque attachments) → <c>&lt;b64-N&gt;</c>.</summary>
    public bool Blobs { get; init; } = true;

    /// <summary>
    /// base64 values that decode to JSON (attachments, JWS protected headers, ~sig sig_data) are replaced by the
    /// decoded, recursively scrubbed JSON, wrapped as <c>{"$decoded": "base64", "json": …}</c>, so diffs are readable.
    /// </summary>
    public bool DecodeBase64Json { get; init; } = true;

    /// <summary>ISO 8601 timestamps and epoch numbers in time fields → <c>&lt;time-N&gt;</c>.</summary>
    public bool Times { get; init; } = true;

    /// <summary>Numbers times (and durations) by distinct value (<c>&lt;time-2&gt;</c> is later than, or at least not equal to,
    /// <c>&lt;time-1&gt;</c>). Off: every time is <c>&lt;time&gt;</c> — for parties that stamp messages with the wall
    /// clock in whole seconds, where a second boundary inside a case would otherwise change the numbering.</summary>
    public bool NumberTimes { get; init; } = true;

    /// <summary>Ports of URLs on <see cref="EphemeralHosts"/> → <c>http://127.0.0.1:&lt;port-N&gt;/path</c>.</summary>
    public bool Ports { get; init; } = true;

    /// <summary>Hosts whose ports are ephemeral (chosen per run).</summary>
    public IReadOnlyList<string> EphemeralHosts { get; init; } =
        ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "host.docker.internal"];

    /// <summary>
    /// Fields whose string value is an identifier. A message's top-level "id" (DIDComm v2) counts too; a nested "id"
    /// does not (DID documents use it for DIDs and "#key-1" fragments, which have rules of their own).
    /// </summary>
    public IReadOnlyList<string> IdFields { get; init; } = ["@id", "thid", "pthid", "invitation_msg_id", "parent_thread_id"];

    /// <summary>Values never replaced (well-known constants that look volatile).</summary>
    public IReadOnlyList<string> KeepValues { get; init; } = ["did:sov:BzCbsNYhMrjHiqZDTUASHg"];

    public static ScrubPolicy Default { get; } = new();

    /// <summary>
    /// For a seeded (deterministic) agent: ids and keys are the same every run and stay raw, so fixtures show real
    /// example messages; ports, the DIDs and signatures that embed them, and times are still scrubbed.
    /// </summary>
    public static ScrubPolicy SeededAgent { get; } = Default with { Ids = false, Keys = false };

    /// <summary>For the seeded embedded DIDComm v2 mediator and its seeded clients: keys stay raw; message ids become
    /// <c>&lt;id-N&gt;</c> in order of appearance, because the mediator draws ids for work the client never sees (a live
    /// delivery packed for a socket that just died, when the mediator has not noticed yet), which shifts its later
    /// ids; created_time comes from the wall clock in whole seconds, so times are not numbered.</summary>
    public static ScrubPolicy SeededMediator { get; } = SeededAgent with { Ids = true, NumberTimes = false };

    /// <summary>Keeps every value raw (for deterministic agents); only the private-key guard still applies.</summary>
    public static ScrubPolicy KeepRaw { get; } = new()
    {
        Ids = false, Keys = false, Dids = false, Signatures = false, Blobs = false, DecodeBase64Json = false,
        Times = false, Ports = false,
    };
}
