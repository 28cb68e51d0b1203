// Man-in-the-middle comparison codes: the Indy HIPE "Connection Protocol" (shared/specs/seeds/004_*.txt),
// §4 "Trust Building", "Man-in-the-middle":
//   "Risk: ... the pair of DID Document may be different between the two sides.
//    Mitigation: The two sides together verify the consistency of the pair of DID Document pair between the two
//    sides via an independent channel. For instance, the invitee calculates the sum of the hashes of the two DID
//    Documents, and conveys this via an independent channel to the inviter, who verifies it. Subsequently, the
//    inviter calculates the product of the two hashes, and conveys this via an independent channel to the invitee,
//    who verifies it. If the independent channel is a human-to-human or human-to-bot channel, then likely the first
//    few characters of the two hashes suffice."
//
// The HIPE leaves "hash", "sum" and "product" open. This is the precise definition used here (so that another
// implementation can compute the same codes):
//   1. Canonical form of a DID document: the JSON Canonicalization Scheme, RFC 8785 (JCS) -- object members sorted
//      by their names' UTF-16 code units, no whitespace, strings with only the mandatory escapes (\" \\ \b \f \n \r
//      \t, other controls and lone surrogates as \u00xx lowercase hex), numbers as ECMAScript writes them. Each side
//      canonicalises the document as it holds it: the one it sent and the one it received, so two agents that saw
//      the same documents agree however the JSON was spaced or ordered on the wire.
//   2. h = SHA-256(UTF-8 of the canonical form), read as an unsigned 256-bit big-endian integer.
//   3. sum = (hA + hB) mod 2^256; product = (hA * hB) mod 2^256. Both are commutative, so the order of the two
//      documents (mine/theirs) does not matter and both sides get the same numbers.
//   4. Shown to humans as the first 6 characters (30 bits) of the 256-bit big-endian value in Crockford's base32
//      (0-9 A-Z without I, L, O, U: no look-alike characters), e.g. "7KQ2XM". Reading one back, case is ignored,
//      O is read as 0, I and L as 1, and spaces and hyphens are dropped (Crockford's decoding rules).
// Both codes are computed by both sides and stored on ConnectionRecord.Mitm when the connection completes; the HIPE's
// dialogue (invitee reads the sum, inviter the product) is the user's business. Any change to either document --
// one added member, one different key -- changes both codes (except with probability about 2^-30 per code).
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;

namespace Conformance.Agent.Connections;

public static class MitmCheck
{
    /// <summary>Characters shown to a human per code.</summary>
    public const int CodeLength = 6;

    /// <summary>Crockford's base32 alphabet.</summary>
    public const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private static readonly BigInteger Modulus = BigInteger.One << 256;

    /// <summary>The comparison codes of a connection's pair of DID documents (order does not matter).</summary>
    public static MitmCodes Compute(JsonObject docA, JsonObject docB)
    {
        var (sum, product) = ComputeValues(docA, docB);
        return new MitmCodes { Sum = Code(sum), Product = Code(product) };
    }

    /// <summary>The full 256-bit sum and product of the two document hashes.</summary>
    public static (BigInteger Sum, BigInteger Product) ComputeValues(JsonObject docA, JsonObject docB)
    {
        ArgumentNullException.ThrowIfNull(docA);
        ArgumentNullException.ThrowIfNull(docB);
        var a = Hash(docA);
        var b = Hash(docB);
        return ((a + b) % Modulus, a * b % Modulus);
    }

    /// <summary>SHA-256 of the RFC 8785 canonical form, as an unsigned big-endian integer.</summary>
    public static BigInteger Hash(JsonObject doc) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(Canonicalize(doc))), isUnsigned: true, isBigEndian: true);

    /// <summary>The first <paramref name="length"/> Crockford base32 characters of a 256-bit value written big-endian.</summary>
    public static string Code(BigInteger value, int length = CodeLength)
    {
        if (value.Sign < 0 || value >= Modulus) throw new ArgumentOutOfRangeException(nameof(value), "a code is made from a 256-bit unsigned value");
        if (length is < 1 or > 52) throw new ArgumentOutOfRangeException(nameof(length), "1 to 52 characters (256 bits)");
        var bytes = new byte[32];
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(bytes, 32 - raw.Length);
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var v = 0;
            for (var bit = i * 5; bit < i * 5 + 5; bit++)
                v = v << 1 | (bit < 256 ? bytes[bit / 8] >> 7 - bit % 8 & 1 : 0);
            sb.Append(Alphabet[v]);
        }
        return sb.ToString();
    }

    /// <summary>True if a code read back by a human (any case, O for 0, I/L for 1, with spaces or hyphens) equals <paramref name="code"/>.</summary>
    public static bool Matches(string spoken, string code)
    {
        if (spoken is null || code is null) return false;
        var normal = new StringBuilder();
        foreach (var ch in spoken.ToUpperInvariant())
        {
            if (ch is ' ' or '-') continue;
            normal.Append(ch switch { 'O' => '0', 'I' or 'L' => '1', _ => ch });
        }
        return normal.ToString() == code;
    }

    // ------------------------------------------------------------------ RFC 8785 (JCS)

    /// <summary>The RFC 8785 canonical JSON of <paramref name="node"/>.</summary>
    public static string Canonicalize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                // RFC 8785 §3.2.3: "sorted ... using the UTF-16 code units of the property names" (ordinal on .NET strings).
                foreach (var (name, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, name);
                    sb.Append(':');
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, a[i]);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                // Through its JSON text, whatever .NET value backs the node (a parsed element, an int, a string ...).
                using (var parsed = JsonDocument.Parse(v.ToJsonString()))
                {
                    var e = parsed.RootElement;
                    switch (e.ValueKind)
                    {
                        case JsonValueKind.String: WriteString(sb, e.GetString()!); break;
                        case JsonValueKind.True: sb.Append("true"); break;
                        case JsonValueKind.False: sb.Append("false"); break;
                        case JsonValueKind.Null: sb.Append("null"); break;
                        case JsonValueKind.Number: sb.Append(EcmaNumber(e.GetDouble())); break;
                        default: throw new ArgumentException($"cannot canonicalize a JSON {e.ValueKind}");
                    }
                }
                break;
        }
    }

    /// <summary>RFC 8785 §3.2.2.2: JSON.stringify string escaping.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    var loneSurrogate = char.IsHighSurrogate(c) ? i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])
                        : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]));
                    if (c < 0x20 || loneSurrogate) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>RFC 8785 §3.2.2.3: the ECMAScript Number.prototype.toString form (shortest round-trip digits).</summary>
    internal static string EcmaNumber(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d)) throw new ArgumentException("JSON has no NaN or Infinity");
        if (d == 0) return "0";   // also -0
        var negative = d < 0;
        // "R" gives the shortest digits that round-trip ("123.456", "1E+21", "1.5E-07"); rewrite them as
        // value = 0.<digits> × 10^n, the form ECMAScript's algorithm works on.
        var r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOfAny(['E', 'e']);
        var mantissa = e < 0 ? r : r[..e];
        var exp10 = e < 0 ? 0 : int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.');
        var all = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        var point = dot < 0 ? mantissa.Length : dot;
        var leadingZeros = all.Length - all.TrimStart('0').Length;
        var digits = all[leadingZeros..].TrimEnd('0');
        var n = point - leadingZeros + exp10;
        var k = digits.Length;
        string s;
        if (k <= n && n <= 21) s = digits + new string('0', n - k);
        else if (0 < n && n <= 21) s = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0) s = "0." + new string('0', -n) + digits;
        else
        {
            var exp = n - 1;
            s = digits[..1] + (k > 1 ? "." + digits[1..] : "") + "e" + (exp >= 0 ? "+" : "-") + Math.Abs(exp).ToString(CultureInfo.InvariantCulture);
        }
        return negative ? "-" + s : s;
    }
}
