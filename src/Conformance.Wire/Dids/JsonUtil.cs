using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Wire.Dids;

/// <summary>Small, exception-free readers over <see cref="JsonNode"/> for sloppy input.</summary>
internal static class JsonUtil
{
    public static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.TryGetValue<string>(out var s) ? s : null;

    public static string? Str(JsonObject o, string name) => o.TryGetPropertyValue(name, out var n) ? Str(n) : null;

    /// <summary>An array property (or a lone value, which some agents send instead of a one-element array).</summary>
    public static IEnumerable<JsonNode?> Items(JsonObject o, string name) =>
        !o.TryGetPropertyValue(name, out var n) || n is null ? [] : n is JsonArray a ? a : new[] { n };

    /// <summary>String items of an array property; a non-string item is an error naming <paramref name="what"/>.</summary>
    public static List<string> Strings(JsonObject o, string name, string what)
    {
        var list = new List<string>();
        foreach (var item in Items(o, name))
            list.Add(Str(item) ?? throw new DidException($"{what}: every entry of '{name}' must be a string"));
        return list;
    }

    public static JsonObject ParseObject(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        JsonNode? node;
        try { node = JsonNode.Parse(text, null, new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new DidException($"{what} is not valid JSON: {e.Message}", e); }
        return node as JsonObject ?? throw new DidException($"{what} must be a JSON object");
    }

    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8, string what)
    {
        string text;
        try { text = new UTF8Encoding(false, true).GetString(utf8); }
        catch (DecoderFallbackException e) { throw new DidException($"{what} is not valid UTF-8", e); }
        return ParseObject(text, what);
    }

    /// <summary>
    /// Serializes without whitespace exactly as ECMAScript <c>JSON.stringify</c> does (property order kept, only
    /// <c>"</c>, <c>\</c> and control characters escaped). This is the serialization the did:peer reference
    /// implementations and Credo hash. With <paramref name="asciiOnly"/> it matches Python's
    /// <c>json.dumps(separators=(",", ":"))</c> instead (ensure_ascii: everything outside 0x20–0x7E escaped).
    /// Numbers are written as they were read.
    /// </summary>
    public static string Compact(JsonNode? node, bool asciiOnly = false)
    {
        var sb = new StringBuilder();
        Write(sb, node, asciiOnly);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, bool ascii)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, k, ascii);
                    sb.Append(':');
                    Write(sb, v, ascii);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, a[i], ascii);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: WriteString(sb, Str(v) ?? v.ToString(), ascii); break;
                    case JsonValueKind.True: sb.Append("true"); break;
                    case JsonValueKind.False: sb.Append("false"); break;
                    case JsonValueKind.Null: sb.Append("null"); break;
                    default: sb.Append(v.ToJsonString()); break;
                }
                break;
        }
    }

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }
            var loneSurrogate = char.IsHighSurrogate(c) ? i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])
                : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]));
            if (c < 0x20 || loneSurrogate || (ascii && c > 0x7e))
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }
        sb.Append('"');
    }
}
