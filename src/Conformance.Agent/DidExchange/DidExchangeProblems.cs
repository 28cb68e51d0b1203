namespace Conformance.Agent.DidExchange;

/// <summary>
/// RFC 0023 §Errors. "During the request / response part of the protocol, there are two protocol-specific error
/// messages possible: one for an active rejection and one for an unknown error. These errors are sent using a
/// problem_report message type specific to the DID Exchange Protocol. These errors do not transition the protocol to
/// the abandoned state." The codes go in <c>problem-code</c>; the reason the RFC lists goes first in <c>explain</c>
/// ("Unsupported DID method for provided DID: did:example is not supported"), so a reader can match either.
/// </summary>
public static class DidExchangeProblems
{
    /// <summary>"The error indicates that the request message has been rejected for a reason listed in the error_report."</summary>
    public const string RequestNotAccepted = "request_not_accepted";
    /// <summary>"sent when the responder was processing the request with the intent to accept the request, but some processing error occurred."</summary>
    public const string RequestProcessingError = "request_processing_error";
    /// <summary>"The error indicates that the response has been rejected for a reason listed in the error_report."</summary>
    public const string ResponseNotAccepted = "response_not_accepted";
    /// <summary>"sent when the requester was processing the response with the intent to accept the response, but some processing error occurred."</summary>
    public const string ResponseProcessingError = "response_processing_error";

    /// <summary>
    /// Not an RFC 0023 code: §"Complete Rejected" lists no reasons and names no code. ACA-Py uses
    /// <c>complete_not_accepted</c> (Credo: <c>complete_rejected</c>); this agent sends ACA-Py's and reads both.
    /// </summary>
    public const string CompleteNotAccepted = "complete_not_accepted";

    /// <summary>"If other errors occur, the corresponding party may send a problem-report to inform the other party they are abandoning the protocol." (ACA-Py's code.)</summary>
    public const string Abandoned = "abandoned";

    /// <summary>The codes after which the protocol is NOT abandoned (RFC 0023: "These errors do not transition the protocol to the abandoned state").</summary>
    public static bool KeepsExchangeAlive(string? code) => Normalize(code) is RequestNotAccepted or RequestProcessingError
        or ResponseNotAccepted or ResponseProcessingError or CompleteNotAccepted or "complete_rejected";

    /// <summary>Agents write <c>request-not-accepted</c> as often as <c>request_not_accepted</c>.</summary>
    public static string? Normalize(string? code) => code?.Trim().Replace('-', '_').ToLowerInvariant();

    // ---------------------------------------------------------------- reasons, RFC 0023 §"Request Rejected" / §"Response Rejected"

    public const string UnsupportedDidMethod = "Unsupported DID method for provided DID";
    public const string ExpiredInvitation = "Expired Invitation";
    public const string InvalidDidDoc = "DID Doc Invalid";
    public const string UnsupportedKeyType = "Unsupported key type";
    public const string UnsupportedEndpointProtocol = "Unsupported endpoint protocol";
    public const string MissingInvitationReference = "Missing reference to invitation";
    public const string ExpiredRequest = "Expired Request";
    public const string InvalidSignature = "Invalid Signature";

    // Not in the RFC's lists, but what the rejection is about.
    public const string ThreadMismatch = "Thread mismatch";
    public const string AlreadyCompleted = "Exchange already completed";
    public const string DuplicateMessage = "Duplicate message";
    public const string MalformedMessage = "Malformed message";
}

/// <summary>A peer's DID, document or message fails a rule: <see cref="Reason"/> is one of <see cref="DidExchangeProblems"/>' reasons.</summary>
internal sealed class Rejection(string reason, string detail) : Exception(reason + ": " + detail)
{
    public string Reason { get; } = reason;
    public string Detail { get; } = detail;
    public string Explain => Reason + ": " + Detail;
}
