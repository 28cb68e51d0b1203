namespace Conformance.Mediator;

/// <summary>
/// The problem codes (report-problem 2.0, didcomm-v2/problems.md "Problem Codes") the mediator sends, chosen to match
/// the Identus mediator (shared/specs/identus-mediator/Mediator-Error_Handling.md, scenario letters below) and the
/// codes its BDD test suite asserts (didcomm-v2-mediator-test-suite, <c>common/ReportProblemErrors.kt</c>).
/// Codes are matched by prefix by careful receivers ("recipients can do matching by prefix instead of full string").
/// </summary>
public static class ProblemCodes
{
    /// <summary>G2/G3: "Receive a message for an unsupported protocol" / "unsupported version of the protocol" → G2B.</summary>
    public const string Unsupported = "e.p.msg.unsupported";

    /// <summary>G8: the plaintext is malformed or does not fit the protocol's data model. The test suite asserts exactly
    /// <c>e.p.msg</c> ("Sending malformed message"); G8C's <c>e.p.msg.&lt;PIURI&gt;</c> is a refinement of this prefix.</summary>
    public const string Malformed = "e.p.msg";

    /// <summary>G5: "If the message is tampered or got any crypto errors when decoding" → G5B <c>e.p.crypto</c>.</summary>
    public const string Crypto = "e.p.crypto";

    /// <summary>G1: "Received the exact same message" → the Identus code <c>ProblemCode.ErroFail("crypto", "message", "dejavu")</c>.</summary>
    public const string Dejavu = "e.p.crypto.message.dejavu";

    /// <summary>G4: "When an internal error or any unexpected error happens" → G4B.</summary>
    public const string Internal = "e.p.error";

    /// <summary>G6: the DID method is not supported / the DID cannot be resolved → G6B.</summary>
    public const string Did = "e.p.did";

    /// <summary>G7: the DID is malformed → G7B.</summary>
    public const string DidMalformed = "e.p.did.malformed";

    /// <summary>M1/M4: a pickup (or keylist update) from a DID that is not enrolled, or a forward whose <c>next</c> is
    /// not enrolled → M1B/M4B.</summary>
    public const string NotEnrolled = "e.p.req.not_enroll";

    /// <summary>M2/M3: the database is unavailable or a query failed → M2B/M3B.</summary>
    public const string Storage = "e.p.me.res.storage";

    /// <summary>M5: <c>live-delivery-change</c> with <c>live_delivery: true</c> on a connection incapable of live
    /// delivery → M5B; the exact code of messagepickup-3.0 "Live Mode Change" (Identus: <c>ErroUndo("live-mode-not-supported")</c>).</summary>
    public const string LiveModeNotSupported = "e.m.live-mode-not-supported";

    /// <summary>problems.md <c>trust</c>: "a protocol required a known sender but a message arrived anoncrypted instead".
    /// Used when mediation or pickup messages are not authcrypted or signed (Identus has no code for this case).</summary>
    public const string Trust = "e.p.trust";

    /// <summary>problems.md <c>req.time</c>: "A message has expired" (<c>expires_time</c> in the past).</summary>
    public const string Expired = "e.p.req.time";

    /// <summary>transports.md <c>max_receive_bytes</c>: "The associated Problem Code is me.res.storage.message_too_big".</summary>
    public const string TooBig = "e.p.me.res.storage.message_too_big";

    /// <summary>
    /// The comment sent with a code. problems.md: "If the field is present, the text MUST be statically associated with
    /// code ... each time circumstances trigger a problem with the same code, the value of comment will be the same";
    /// situation-specific detail goes in <c>args</c> (<c>{1}</c>).
    /// </summary>
    public static string CommentFor(string code) => code switch
    {
        Unsupported => "Unsupported message type {1}.",
        Malformed => "Bad message: {1}",
        Crypto => "Cryptographic operation failed: {1}",
        Dejavu => "The message '{1}' was already received; it is not processed again.",
        Internal => "Internal error.",
        Did => "DID is unusable: {1}",
        DidMalformed => "Malformed DID: {1}",
        NotEnrolled => "The DID '{1}' is not enrolled.",
        Storage => "A required resource is unavailable (storage); try again later.",
        LiveModeNotSupported => "Connection does not support Live Delivery",
        Trust => "{1} requires an authenticated sender (authcrypt or signed).",
        Expired => "The message expired at {1}.",
        TooBig => "The message is larger than {1} bytes.",
        _ => "{1}",
    };
}
