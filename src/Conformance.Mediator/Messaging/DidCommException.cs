namespace Conformance.Mediator;

/// <summary>
/// A DIDComm v2 message could not be parsed, unpacked or processed. <see cref="Code"/> is the report-problem 2.0
/// problem code the mediator answers with (see <see cref="ProblemCodes"/>); the message is one human-readable line
/// that never contains key material or plaintext of forwarded mail.
/// </summary>
public sealed class DidCommException : Exception
{
    public DidCommException(string code, string message, string? replyTo = null, Exception? inner = null) : base(message, inner)
    {
        Code = code;
        ReplyTo = replyTo;
    }

    /// <summary>The problem code, e.g. <c>e.p.crypto</c>.</summary>
    public string Code { get; }

    /// <summary>
    /// A DID the problem report can be encrypted to when the failing message named one (an authcrypt skid that did not
    /// verify): only the owner of that DID can read the report, so answering it leaks nothing.
    /// </summary>
    public string? ReplyTo { get; }
}
