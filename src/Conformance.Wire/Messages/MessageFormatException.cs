namespace Conformance.Wire.Messages;

/// <summary>
/// A DIDComm v1 plaintext message (or a part of one: @type, ~thread, an attachment) is malformed.
/// The message is one line, names the offending field, and never echoes more than a short prefix of the input.
/// </summary>
/// <remarks>
/// <see cref="ProblemCode"/> is what a problem report (RFC 0035) about this failure should carry. Parse failures
/// default to <c>e.p.msg</c>: RFC 0035 says new codes SHOULD follow the DIDComm v2 problem-code convention, where
/// <c>msg</c> is "Bad message ... the message might lack a required field" (DIDComm v2 §Problem Reports).
/// Protocol layers may throw with their own codes (e.g. <c>request_not_accepted</c>).
/// </remarks>
public sealed class MessageFormatException : Exception
{
    public const string BadMessage = "e.p.msg";

    public MessageFormatException(string message, string? problemCode = BadMessage, Exception? inner = null)
        : base(message, inner)
    {
        ProblemCode = problemCode;
    }

    public string? ProblemCode { get; }
}
