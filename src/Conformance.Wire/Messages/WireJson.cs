using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Wire.Messages;

/// <summary>
/// The JSON conventions shared by the wire rooms (Messages, Signatures, Invitations).
/// </summary>
internal static class WireJson
{
    /// <summary>
    /// Compact output, like JavaScript's <c>JSON.stringify</c>: no whitespace, and only the characters JSON
    /// requires are escaped. The default System.Text.Json encoder would write '+' as <c>\u002B</c> and every
    /// non-ASCII letter as <c>\uXXXX</c>; that is valid JSON but needlessly longer (invitation URLs, QR codes)
    /// and unlike what Credo and ACA-Py emit. These bytes are never embedded in HTML by this code.
    /// </summary>
    public static readonly JsonSerializerOptions Compact = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Duplicate member names are rejected at parse time. RFC 8259 only says names SHOULD be unique, but a
    /// message with two <c>@type</c> or two <c>signature</c> members means different things to different
    /// parsers, which is how signature and routing confusion bugs start.
    /// </summary>
    public static readonly JsonDocumentOptions Strict = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string ToCompactString(this JsonNode node) => node.ToJsonString(Compact);

    public static byte[] ToCompactUtf8(this JsonNode node) => System.Text.Encoding.UTF8.GetBytes(node.ToJsonString(Compact));

    /// <summary>Parses JSON text; on failure returns null and a one-line reason.</summary>
    public static JsonNode? TryParse(string text, out string? error)
    {
        try
        {
            error = null;
            var node = JsonNode.Parse(text, documentOptions: Strict);
            if (node is null) error = "the JSON value is null";
            return node;
        }
        catch (JsonException e)
        {
            error = OneLine(e.Message);
            return null;
        }
    }

    /// <summary>Parses UTF-8 JSON; invalid UTF-8 is an error (System.Text.Json would silently substitute U+FFFD).</summary>
    public static JsonNode? TryParse(ReadOnlySpan<byte> utf8, out string? error)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            error = "the bytes are not valid UTF-8";
            return null;
        }
        try
        {
            error = null;
            var node = JsonNode.Parse(utf8, documentOptions: Strict);
            if (node is null) error = "the JSON value is null";
            return node;
        }
        catch (JsonException e)
        {
            error = OneLine(e.Message);
            return null;
        }
    }

    /// <summary>Decodes strict UTF-8 or returns null.</summary>
    public static string? TryDecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>A short, single-line excerpt of untrusted input for error messages.</summary>
    public static string Excerpt(string? s, int max = 60)
    {
        if (s is null) return "null";
        var oneLine = string.Concat(s.Select(c => char.IsControl(c) ? ' ' : c));
        return oneLine.Length <= max ? oneLine : oneLine[..max] + "…";
    }

    public static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>Name of a JSON node's kind for error messages ("a number", "an array", ...).</summary>
    public static string Kind(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    /// <summary>The string value of a node, or null if it is not a JSON string.</summary>
    public static string? AsString(JsonNode? n)
        => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>The integer value of a node (a JSON number with no fraction that fits in an int), or null.</summary>
    public static int? AsInt(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return null;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<JsonElement>(out var e) && e.TryGetInt32(out var j)) return j;
        if (v.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        return null;
    }

    /// <summary>The integer value of a node as a long, or null.</summary>
    public static long? AsLong(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out var j)) return j;
        return null;
    }
}
