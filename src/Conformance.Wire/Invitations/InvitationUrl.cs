// Invitation URLs.
// RFC 0160 §"Standard Invitation Encoding": https://<domain>/<path>?c_i=<invitationstring>,
//   invitation_string = b64urlencode(<invitation_message>); "whitespace from the json string should be eliminated";
//   "the base64url decode implementation used MUST correctly decode padded and unpadded base64URL encoded data."
//   "Additional path elements or query parameters are allowed".
// RFC 0434 §"Standard Out-of-Band Message Encoding": https://<domain>/<path>?oob=<outofbandMessage>,
//   "The Base64URL encoded JSON object SHOULD NOT use padding, but the decoding implementation used MUST correctly
//   decode padded and unpadded Base64URL encoded data." Whitespace "SHOULD be eliminated".
// d_m ("DIDComm message") is the legacy parameter of connectionless messages; Credo's ConnectionInvitationMessage
//   .fromUrl reads c_i ?? d_m, and parseInvitationUrl prefers oob over c_i/d_m. Decode uses the same precedence.
// Tolerances beyond the RFCs, because invitations arrive through QR scanners, chat apps and copy-paste:
//   standard base64 ('+', '/') as well as base64url; padding escaped as %3D; a raw JSON invitation; surrounding
//   whitespace; a #fragment after the query. A URL with none of the parameters may be an RFC 0434 shortened URL
//   that must be fetched; Decode says so rather than fetching (no I/O in the wire room).
// Encode writes compact JSON; the padding choice is the caller's (RFC 0434 SHOULD NOT pad; RFC 0160's own example
//   is padded). The '=' padding is written raw, as in RFC 0160's example URL.
using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Wire.Invitations;

public enum InvitationParameter
{
    /// <summary><c>c_i</c>: RFC 0160 connection invitation.</summary>
    ConnectionInvitation,

    /// <summary><c>oob</c>: RFC 0434 out-of-band message.</summary>
    OutOfBand,

    /// <summary><c>d_m</c>: legacy "DIDComm message" parameter (connectionless messages; Credo reads it like c_i).</summary>
    LegacyMessage,
}

/// <summary>
/// A decoded invitation. <see cref="Parameter"/> and <see cref="BaseUrl"/> are null when the input was raw JSON;
/// <see cref="BaseUrl"/> is the URL without the invitation parameter (other parameters kept), so that
/// <c>InvitationUrl.Encode(Message, BaseUrl, Parameter, WasPadded)</c> rebuilds an equivalent URL.
/// </summary>
public sealed record DecodedInvitation(JsonObject Message, InvitationParameter? Parameter, bool WasPadded, string? BaseUrl);

/// <summary>The invitation is not a URL with an invitation parameter nor JSON, or its payload does not decode.</summary>
public sealed class InvitationException : Exception
{
    public InvitationException(string message, Exception? inner = null) : base(message, inner) { }
}

public static class InvitationUrl
{
    /// <summary>The query parameter name for <paramref name="p"/>.</summary>
    public static string ParameterName(InvitationParameter p) => p switch
    {
        InvitationParameter.ConnectionInvitation => "c_i",
        InvitationParameter.OutOfBand => "oob",
        InvitationParameter.LegacyMessage => "d_m",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    // Decode precedence, as Credo's parseInvitationUrl: oob first, then c_i, then d_m.
    private static readonly InvitationParameter[] Precedence =
        [InvitationParameter.OutOfBand, InvitationParameter.ConnectionInvitation, InvitationParameter.LegacyMessage];

    /// <summary>
    /// <c>baseUrl?param=base64url(compact JSON)</c> (or <c>&amp;param=</c> if <paramref name="baseUrl"/> already has a query).
    /// Throws <see cref="InvitationException"/> if the base URL is unusable.
    /// </summary>
    public static string Encode(JsonObject invitation, string baseUrl, InvitationParameter p, bool padded = false)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        ArgumentNullException.ThrowIfNull(baseUrl);
        var name = ParameterName(p);
        var b = baseUrl.Trim();
        if (b.Length == 0) throw new InvitationException("the invitation base URL is empty");
        if (!b.Contains(':')) throw new InvitationException($"the invitation base URL '{WireJson.Excerpt(b)}' has no scheme");
        if (b.Contains('#')) throw new InvitationException("the invitation base URL must not have a #fragment (the query would end up inside it)");
        if (b.Any(char.IsWhiteSpace)) throw new InvitationException("the invitation base URL must not contain whitespace");

        var q = b.IndexOf('?');
        if (q >= 0 && QueryParameters(b[(q + 1)..]).Any(kv => kv.Name is "oob" or "c_i" or "d_m"))
            throw new InvitationException("the invitation base URL already carries an invitation parameter");

        var separator = q < 0 ? "?" : b.EndsWith('?') || b.EndsWith('&') ? "" : "&";
        return b + separator + name + "=" + Base64Url.Encode(invitation.ToCompactUtf8(), padded);
    }

    /// <summary>
    /// Decodes an invitation URL (<c>oob</c>, <c>c_i</c> or legacy <c>d_m</c> parameter, base64url or base64, padded
    /// or not, padding possibly escaped as <c>%3D</c>) or a raw JSON invitation. Throws <see cref="InvitationException"/>.
    /// </summary>
    public static DecodedInvitation Decode(string urlOrJson)
    {
        if (urlOrJson is null) throw new InvitationException("no invitation given");
        var text = urlOrJson.Trim();
        if (text.Length == 0) throw new InvitationException("the invitation is empty");

        if (text[0] == '{')
            return new DecodedInvitation(ParseObject(text, "the invitation JSON"), null, false, null);

        var hash = text.IndexOf('#');
        var withoutFragment = hash >= 0 ? text[..hash] : text;
        var q = withoutFragment.IndexOf('?');
        if (q < 0 || !withoutFragment[..q].Contains(':'))
            throw new InvitationException($"'{WireJson.Excerpt(text)}' is neither a JSON invitation nor a URL with an oob, c_i or d_m parameter");

        var pairs = QueryParameters(withoutFragment[(q + 1)..]).ToList();
        foreach (var p in Precedence)
        {
            var name = ParameterName(p);
            var index = pairs.FindIndex(kv => kv.Name == name);
            if (index < 0) continue;

            var value = Uri.UnescapeDataString(pairs[index].Value).Trim();
            if (value.Length == 0) throw new InvitationException($"the '{name}' parameter is empty");
            var padded = value.EndsWith('=');
            if (!Base64Url.TryDecode(value, out var bytes))
                throw new InvitationException($"the '{name}' parameter is not base64url (nor base64)");
            var json = WireJson.TryDecodeUtf8(bytes)
                       ?? throw new InvitationException($"the '{name}' parameter does not decode to UTF-8 text");
            var message = ParseObject(json, $"the '{name}' parameter");

            pairs.RemoveAt(index);
            var baseUrl = withoutFragment[..q] + (pairs.Count > 0 ? "?" + string.Join("&", pairs.Select(kv => kv.Raw)) : "");
            return new DecodedInvitation(message, p, padded, baseUrl);
        }

        throw new InvitationException(
            "the URL has no oob, c_i or d_m parameter; if it is an RFC 0434 shortened URL, fetch it (HTTP GET, Accept: application/json) and decode the result");
    }

    private static JsonObject ParseObject(string json, string what)
    {
        var node = WireJson.TryParse(json, out var error)
                   ?? throw new InvitationException($"{what} is not valid JSON: {error}");
        return node as JsonObject ?? throw new InvitationException($"{what} must be a JSON object, got {WireJson.Kind(node)}");
    }

    private readonly record struct QueryPair(string Name, string Value, string Raw);

    /// <summary>Splits a query on '&amp;' and the first '='; names are percent-decoded, values are left raw ('+' is kept: base64 uses it).</summary>
    private static IEnumerable<QueryPair> QueryParameters(string query)
    {
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0) continue;
            var eq = part.IndexOf('=');
            var rawName = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            yield return new QueryPair(Uri.UnescapeDataString(rawName), value, part);
        }
    }
}
