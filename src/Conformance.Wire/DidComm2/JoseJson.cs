using System.Text.Encodings.Web;
using System.Text.Json;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.DidComm2;

/// <summary>
/// Strict JSON access for JOSE objects: every malformed input becomes a <see cref="JoseException"/>.
/// RFC 7515 §5.2 / RFC 7516 §5.2: "Header Parameter names MUST be unique; ... parsers MUST either reject [duplicates]
/// or use a JSON parser that returns only the lexically last duplicate" — this parser rejects them.
/// </summary>
internal static class JoseJson
{
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 32 };
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonElement ParseObject(string json, string what)
    {
        if (json is null) throw new JoseException($"{what}: input is null");
        try
        {
            using var doc = JsonDocument.Parse(json, Options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JoseException($"{what} must be a JSON object");
            return doc.RootElement.Clone();
        }
        catch (JsonException) { throw new JoseException($"{what} is not valid JSON (or repeats a member name)"); }
        catch (ArgumentException) { throw new JoseException($"{what} is not well-formed Unicode text"); }
    }

    public static JsonElement ParseObject(byte[] utf8, string what)
    {
        // RFC 8259 §8.1: JSON text exchanged between systems MUST be UTF-8; reject ill-formed bytes before parsing, so no
        // string member can fail to transcode later.
        try { _ = StrictUtf8.GetCharCount(utf8); }
        catch (ArgumentException) { throw new JoseException($"{what} is not valid UTF-8"); }
        try
        {
            using var doc = JsonDocument.Parse(utf8, Options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JoseException($"{what} must be a JSON object");
            return doc.RootElement.Clone();
        }
        catch (JsonException) { throw new JoseException($"{what} is not valid JSON (or repeats a member name)"); }
        catch (ArgumentException) { throw new JoseException($"{what} is not valid UTF-8 JSON"); }
    }

    public static bool Has(JsonElement obj, string name) => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out _);

    public static string? OptionalString(JsonElement obj, string name, string where)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw new JoseException($"{where}: '{name}' must be a string");
        try { return v.GetString(); }
        catch (InvalidOperationException) { throw new JoseException($"{where}: '{name}' is not well-formed Unicode text"); }
    }

    public static string RequiredString(JsonElement obj, string name, string where) =>
        OptionalString(obj, name, where) ?? throw new JoseException($"{where}: '{name}' is missing");

    public static JsonElement? OptionalObject(JsonElement obj, string name, string where)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Object) throw new JoseException($"{where}: '{name}' must be a JSON object");
        return v;
    }

    public static byte[] RequiredBase64(JsonElement obj, string name, string where) =>
        DecodeBase64(RequiredString(obj, name, where), $"{where} '{name}'");

    public static byte[] DecodeBase64(string value, string what)
    {
        try { return Base64Url.Decode(value); }
        catch (FormatException) { throw new JoseException($"{what} is not valid base64url"); }
    }

    /// <summary>Decodes a base64url member holding UTF-8 JSON (a protected header).</summary>
    public static JsonElement DecodeJsonObject(string b64, string what) => ParseObject(DecodeBase64(b64, what), what);

    public static IEnumerable<string> Names(JsonElement? obj)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o) return [];
        try { return o.EnumerateObject().Select(p => p.Name).ToList(); }
        catch (InvalidOperationException) { throw new JoseException("a JOSE header member name is not well-formed Unicode text"); }
    }

    public static string Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, WriterOptions)) body(w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static byte[] WriteUtf8(Action<Utf8JsonWriter> body) => System.Text.Encoding.UTF8.GetBytes(Write(body));

    /// <summary>A header value made safe for a one-line error message: control characters replaced, at most 64 characters.</summary>
    public static string Show(string? value)
    {
        if (value is null) return "(none)";
        var chars = value.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray();
        return "'" + new string(chars) + (value.Length > 64 ? "…'" : "'");
    }
}
