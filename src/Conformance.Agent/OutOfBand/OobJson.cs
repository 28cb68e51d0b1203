using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Agent.OutOfBand;

/// <summary>Small JSON helpers for reading invitations and writing one-line error messages.</summary>
internal static class OobJson
{
    /// <summary>The string value of <paramref name="n"/>, or null if it is absent or not a JSON string.</summary>
    public static string? AsString(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>"a string", "an array", ... for error messages.</summary>
    public static string Kind(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => n.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
    };

    /// <summary>At most <paramref name="max"/> characters of <paramref name="s"/>, on one line.</summary>
    public static string Excerpt(string? s, int max = 60)
    {
        if (s is null) return "(null)";
        s = OneLine(s);
        return s.Length <= max ? s : s[..(max - 1)] + "…";
    }

    public static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
