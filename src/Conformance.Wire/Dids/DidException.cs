namespace Conformance.Wire.Dids;

/// <summary>
/// Any failure to parse, generate or resolve a DID or DID document. The message is one readable line and never
/// contains key material beyond public keys; long DIDs (did:peer:2/4) are abbreviated with <see cref="Abbrev"/>.
/// </summary>
public sealed class DidException : Exception
{
    public DidException(string message) : base(OneLine(message)) { }

    public DidException(string message, Exception? inner) : base(OneLine(message), inner) { }

    /// <summary>Shortens a DID (or any text) for an error message: did:peer:4 long forms run to kilobytes.</summary>
    public static string Abbrev(string? text, int max = 60)
    {
        if (text is null) return "(null)";
        text = OneLine(text);
        return text.Length <= max ? text : text[..(max - 12)] + "…" + text[^11..];
    }

    private static string OneLine(string s) => s.Replace("\r", " ").Replace("\n", " ");
}
