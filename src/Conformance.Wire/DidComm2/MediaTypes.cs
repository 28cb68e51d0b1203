namespace Conformance.Wire.DidComm2;

/// <summary>
/// DIDComm Messaging v2 IANA media types (spec "IANA Media Types", message_structure.md).
/// <list type="bullet">
/// <item>"The media type for a generic DIDComm plaintext message MUST be reported as application/didcomm-plain+json"</item>
/// <item>"The media type of a DIDComm signed message MUST be application/didcomm-signed+json"</item>
/// <item>"The media type of a non-nested DIDComm encrypted message MUST be application/didcomm-encrypted+json"</item>
/// <item>"IANA types for DIDComm messages MAY omit the application/ prefix; the recipient MUST treat media types not
/// containing / as having the application/ prefix present."</item>
/// </list>
/// </summary>
public static class MediaTypes
{
    public const string Plain = "application/didcomm-plain+json";
    public const string Signed = "application/didcomm-signed+json";
    public const string Encrypted = "application/didcomm-encrypted+json";

    /// <summary>Adds the <c>application/</c> prefix when the value has no '/', and lower-cases it (media types are case-insensitive, RFC 6838 §4.2).</summary>
    public static string Normalize(string mediaType)
    {
        ArgumentNullException.ThrowIfNull(mediaType);
        var t = mediaType.Trim().ToLowerInvariant();
        return t.Contains('/') ? t : "application/" + t;
    }

    /// <summary>True when <paramref name="mediaType"/> names <paramref name="expected"/>, with or without the <c>application/</c> prefix.</summary>
    public static bool Is(string? mediaType, string expected) => mediaType is not null && Normalize(mediaType) == expected;
}
