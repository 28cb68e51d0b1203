using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;

namespace Conformance.Agent.DidExchange;

/// <summary>
/// The three RFC 0023 messages as this agent writes them (§1 request, §2 response, §3 complete) and the signed
/// attachments they carry. Types are written with the https://didcomm.org/ prefix (RFC 0348); both prefixes are read.
/// </summary>
internal static class DidExchangeMessages
{
    public const string Protocol = "didexchange";

    /// <summary>"didexchange/1.0" or "didexchange/1.1": the family a record speaks, also the problem report family.</summary>
    public static string Family(int minor) => $"{Protocol}/1.{minor}";

    public static string TypeUri(int minor, string name) => DocUris.DidCommOrg + Family(minor) + "/" + name;

    /// <summary>The minor version of a record's <see cref="ConnectionRecord.Protocol"/> ("didexchange/1.0" → 0).</summary>
    public static int MinorOf(ConnectionRecord c) => c.Protocol == Family(0) ? 0 : 1;

    /// <summary>
    /// The minor version to speak in reply to a message of minor <paramref name="theirs"/>: RFC 0003 semver — a 1.x
    /// message is understood by any 1.y agent; answer in the version the peer used, capped at the newest this agent
    /// knows (1.1).
    /// </summary>
    public static int ReplyMinor(int theirs) => Math.Clamp(theirs, 0, 1);

    /// <summary>"1.0"/"1.1" (AgentOptions.DidExchangeVersion) → 0/1.</summary>
    public static int MinorOf(string version) => version.Trim() switch
    {
        "1.0" => 0,
        "1.1" => 1,
        _ => throw new ArgumentException($"didexchange version '{version}' is not 1.0 or 1.1"),
    };

    /// <summary>The minor version of a handshake protocol URI such as "https://didcomm.org/didexchange/1.1"; null if it is not didexchange 1.x.</summary>
    public static int? HandshakeMinor(string handshakeProtocol)
    {
        var marker = "/" + Protocol + "/1.";
        var i = handshakeProtocol.LastIndexOf(marker, StringComparison.Ordinal);
        if (i < 0) return null;
        var rest = handshakeProtocol[(i + marker.Length)..].TrimEnd('/');
        return int.TryParse(rest, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var minor) ? minor : null;
    }

    // ---------------------------------------------------------------- §1 request

    /// <summary>
    /// RFC 0023 §"Request Message Attributes": "~thread ... MUST include the ID of the parent thread (pthid)" and
    /// "MAY include the thid" (written here, = @id, as Credo and ACA-Py do); "The did attribute MUST be included";
    /// did_doc~attach only "if required" — for a DID that does not resolve by itself (did:peer:1, unqualified),
    /// signed by the DID's own key (Credo requires that signature for did:peer:1).
    /// </summary>
    public static AgentMessage Request(ReferenceAgent agent, int minor, string pthid, string label, MyDid my)
    {
        var request = agent.NewMessage(TypeUri(minor, "request"));
        request = request.WithThread(request.Id, pthid);
        // "If an agent wishes to not use a label in the request, an empty string ("") or the set value Unspecified may be used."
        request.Json["label"] = label;
        request.Json["did"] = my.Did;
        if (!ResolvesByItself(my.Did))
            request.Json[TheirDids.DidDocAttach] = SignedAttachment(agent, Utf8Json(my.Document), "application/json",
                agent.Misbehaviour.SigningKey("request", my.Key));
        return request;
    }

    // ---------------------------------------------------------------- §2 response

    /// <summary>
    /// RFC 0023 §"Response Message Attributes": "~thread ... contains a thid reference to the @id of the request";
    /// "The did attribute MUST be included". Provenance of the new DID: 1.1 — "did_rotate~attach ... SHOULD be included
    /// if the did attribute is resolvable and the did_doc~attach is not included. The value is the Base64url encoded
    /// DID, and signed with the key used in the invitation" (written always in 1.1); 1.0 — did_doc~attach signed by the
    /// invitation key (what 1.0 receivers check). A did_doc~attach is added in 1.1 only for a DID that does not resolve
    /// by itself, also signed by the invitation key: §"Response Processing" says of both attachments "The key used in
    /// the signature MUST match the key used in the invitation."
    /// </summary>
    public static AgentMessage Response(ReferenceAgent agent, int minor, string thid, MyDid my, Ed25519KeyPair invitationKey)
    {
        var response = agent.NewMessage(TypeUri(minor, "response")).WithThread(thid, null);
        response.Json["did"] = my.Did;
        if (minor >= 1)
            response.Json[TheirDids.DidRotateAttach] = SignedAttachment(agent, System.Text.Encoding.UTF8.GetBytes(my.Did), "text/string",
                agent.Misbehaviour.SigningKey("response", invitationKey));
        if (minor == 0 || !ResolvesByItself(my.Did))
            response.Json[TheirDids.DidDocAttach] = SignedAttachment(agent, Utf8Json(my.Document), "application/json",
                agent.Misbehaviour.SigningKey("response", invitationKey));
        return response;
    }

    // ---------------------------------------------------------------- §3 complete

    /// <summary>RFC 0023 §3: "The pthid is required in this message, and must be identical to the pthid used in the request message."</summary>
    public static AgentMessage Complete(ReferenceAgent agent, int minor, string thid, string pthid) =>
        agent.NewMessage(TypeUri(minor, "complete")).WithThread(thid, pthid);

    // ---------------------------------------------------------------- attachments

    /// <summary>
    /// An RFC 0017 attachment whose <c>data.base64</c> is <paramref name="content"/> (base64url without padding:
    /// "code that writes this encoding SHOULD omit the padding") and whose <c>data.jws</c> is a detached JWS by
    /// <paramref name="signer"/> (<see cref="AttachmentJws.Sign"/>: the form ACA-Py and Credo both verify).
    /// </summary>
    public static JsonObject SignedAttachment(ReferenceAgent agent, byte[] content, string mimeType, Ed25519KeyPair signer)
    {
        var b64 = Base64Url.Encode(content);
        return new JsonObject
        {
            ["@id"] = agent.NewId(),
            ["mime-type"] = mimeType,
            ["data"] = new JsonObject { ["base64"] = b64, ["jws"] = AttachmentJws.Sign(b64, signer) },
        };
    }

    private static readonly JsonSerializerOptions CompactJson = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // as JSON.stringify writes it: no \u002B for '+'
    };

    public static byte[] Utf8Json(JsonNode node) => System.Text.Encoding.UTF8.GetBytes(node.ToJsonString(CompactJson));

    /// <summary>True for DIDs whose document comes from the DID itself (did:peer:0/2, long did:peer:4, did:key) or a public registry (did:web).</summary>
    public static bool ResolvesByItself(string did) =>
        Conformance.Wire.Dids.DidPeer.IsSelfResolving(did) || did.StartsWith("did:key:", StringComparison.Ordinal) ||
        did.StartsWith("did:web:", StringComparison.Ordinal);
}
