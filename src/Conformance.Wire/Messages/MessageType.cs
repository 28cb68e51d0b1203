// Message type URIs (MTURI), Aries RFC 0003 "Protocols" §"Message Type URI" and RFC 0020 "Message Types",
// as referenced from RFC 0005 (DIDComm) and used by RFC 0160, 0023, 0434:
//
//     <doc-uri><protocol-name>/<semver major>.<minor>/<message-type-name>
//     https://didcomm.org/connections/1.0/invitation
//     did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation      (legacy prefix, RFC 0160 era)
//
// RFC 0348 moved the community prefix from did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/ to https://didcomm.org/ and
// asks agents to accept both for a transition period; ACA-Py's DIDCommPrefix and Credo still accept both.
// RFC 0003 semver rules: a message is understood by any agent implementing the same protocol *major* version;
// minor versions only add optional things. So matching ignores the minor version (see Matches).
// Credo parses with /^(.+)\/([^/\\]+)\/(\d+).(\d+)\/([^/\\]+)$/; this parser accepts the same shapes but insists
// on a scheme in the doc URI and rejects whitespace, so that a sloppy type is reported rather than half-parsed.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Conformance.Wire.Messages;

/// <summary>The two community doc-URI prefixes (RFC 0348).</summary>
public static class DocUris
{
    public const string DidCommOrg = "https://didcomm.org/";
    public const string LegacySov = "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/";
}

/// <summary>
/// A parsed DIDComm v1 message type URI. <see cref="DocUri"/> is kept verbatim (including its trailing '/'), so
/// <see cref="ToString"/> reproduces the input for every type <see cref="Parse"/> accepts (leading zeros in
/// version numbers are rejected, as semver requires, so nothing is normalised away).
/// </summary>
public sealed record MessageType(string DocUri, string Protocol, int Major, int Minor, string Name)
{
    /// <summary>Longest @type accepted; real ones are under 100 characters.</summary>
    public const int MaxLength = 2048;

    /// <summary>Parses a message type URI; throws <see cref="MessageFormatException"/> on anything malformed.</summary>
    public static MessageType Parse(string type)
    {
        if (TryParseCore(type, out var t, out var why)) return t;
        throw new MessageFormatException($"unparseable @type '{WireJson.Excerpt(type)}': {why}");
    }

    public static bool TryParse(string? type, [NotNullWhen(true)] out MessageType? t)
    {
        var ok = TryParseCore(type, out var parsed, out _);
        t = ok ? parsed : null;
        return ok;
    }

    /// <summary>True for the legacy <c>did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/</c> prefix.</summary>
    public bool IsLegacyPrefix => DocUri == DocUris.LegacySov;

    /// <summary>The protocol identifier URI (PIURI): <c>DocUri + Protocol/Major.Minor</c>, as listed in
    /// <c>handshake_protocols</c> of an out-of-band invitation.</summary>
    public string ProtocolUri => DocUri + Protocol + "/" + Major.ToString(CultureInfo.InvariantCulture) + "." +
                                 Minor.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// True if this type is message <paramref name="name"/> of protocol <paramref name="protocol"/> with the same
    /// major version, whatever the minor version and the doc-URI prefix (RFC 0003 semver rules, RFC 0348 prefixes).
    /// Comparison is ordinal (URIs are case-sensitive).
    /// </summary>
    public bool Matches(string protocol, int major, string name)
        => string.Equals(Protocol, protocol, StringComparison.Ordinal) && Major == major &&
           string.Equals(Name, name, StringComparison.Ordinal);

    /// <summary>True if both name the same protocol and major version (minor and prefix ignored).</summary>
    public bool IsSameProtocolFamily(MessageType other)
        => string.Equals(Protocol, other.Protocol, StringComparison.Ordinal) && Major == other.Major;

    /// <summary>The same type under another doc-URI prefix, e.g. <see cref="DocUris.LegacySov"/>.</summary>
    public MessageType WithPrefix(string docUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(docUri);
        if (!docUri.EndsWith('/'))
            throw new ArgumentException("a doc URI ends with '/' (e.g. \"https://didcomm.org/\")", nameof(docUri));
        return this with { DocUri = docUri };
    }

    public override string ToString() => ProtocolUri + "/" + Name;

    private static bool TryParseCore(string? type, [NotNullWhen(true)] out MessageType? t, out string why)
    {
        t = null;
        if (string.IsNullOrEmpty(type)) { why = "it is empty"; return false; }
        if (type.Length > MaxLength) { why = $"it is longer than {MaxLength} characters"; return false; }
        foreach (var c in type)
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { why = "it contains whitespace or control characters"; return false; }

        var nameSlash = type.LastIndexOf('/');
        if (nameSlash < 0) { why = "expected <doc-uri><protocol>/<major>.<minor>/<name>"; return false; }
        var name = type[(nameSlash + 1)..];
        if (name.Length == 0) { why = "the message name is empty"; return false; }

        var versionSlash = nameSlash > 0 ? type.LastIndexOf('/', nameSlash - 1) : -1;
        if (versionSlash < 0) { why = "missing protocol version"; return false; }
        var version = type[(versionSlash + 1)..nameSlash];

        var protocolSlash = versionSlash > 0 ? type.LastIndexOf('/', versionSlash - 1) : -1;
        if (protocolSlash < 0) { why = "missing protocol name or doc URI"; return false; }
        var protocol = type[(protocolSlash + 1)..versionSlash];
        if (protocol.Length == 0) { why = "the protocol name is empty"; return false; }

        var docUri = type[..(protocolSlash + 1)];
        if (docUri.Length < 2) { why = "the doc URI is empty"; return false; }
        if (!docUri.Contains(':')) { why = $"the doc URI '{WireJson.Excerpt(docUri)}' has no scheme"; return false; }

        if (!TryParseVersion(version, out var major, out var minor))
        {
            why = $"the protocol version '{WireJson.Excerpt(version, 20)}' is not <major>.<minor>";
            return false;
        }

        t = new MessageType(docUri, protocol, major, minor, name);
        why = "";
        return true;
    }

    private static bool TryParseVersion(string v, out int major, out int minor)
    {
        major = minor = 0;
        var dot = v.IndexOf('.');
        if (dot <= 0 || dot == v.Length - 1 || v.IndexOf('.', dot + 1) >= 0) return false;
        return TryParseDigits(v.AsSpan(0, dot), out major) && TryParseDigits(v.AsSpan(dot + 1), out minor);
    }

    private static bool TryParseDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (s.Length is 0 or > 9) return false; // 9 digits always fit in an int
        if (s.Length > 1 && s[0] == '0') return false; // semver 2.0 §2: "MUST NOT contain leading zeroes"
        foreach (var c in s)
            if (c is < '0' or > '9') return false;
        value = int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }
}
