using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;

namespace Conformance.Mediator;

/// <summary>How to build a <see cref="V2Client"/>.</summary>
public sealed class V2ClientOptions
{
    /// <summary>Keys, ids and nonces (a seeded source gives reproducible messages).</summary>
    public Entropy Entropy { get; set; } = Entropy.System;

    /// <summary>Use this identity instead of making a fresh one.</summary>
    public V2Identity? Identity { get; set; }

    /// <summary>Service endpoints to advertise in a fresh identity's DID (none by default: replies come back by return_route).</summary>
    public IReadOnlyList<string>? Endpoints { get; set; }

    /// <summary>An HttpClient to share (the bench shares one among many clients); the client never disposes it.</summary>
    public HttpClient? Http { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sees every message the client sends or receives, on any transport (the harness's wire tap). Called
    /// on the sending or reading thread; keep it quick and thread-safe.</summary>
    public Action<V2Traffic>? Observer { get; set; }
}

/// <summary>One message crossing the wire as a <see cref="V2Client"/> saw it: <paramref name="Direction"/> "out" or
/// "in", <paramref name="Transport"/> "http", "ws" or "inbox"; the envelope as sent or received, the plaintext when
/// the client packed or could unpack it, and a note (an HTTP status, why it could not be unpacked).</summary>
public sealed record V2Traffic(string Direction, string Transport, string? Endpoint, string? Envelope, V2Message? Message, string? Note = null);

/// <summary>
/// A DIDComm v2 party that talks to one mediator: its did:peer:2 identity (X25519 + Ed25519, optional services), message
/// building, packing and unpacking, HTTP POST (this class; <c>application/didcomm-encrypted+json</c>), WebSockets
/// (<see cref="ConnectAsync"/>), the recipient-side protocols (<see cref="V2Session"/>) and the sender side of routing
/// (<see cref="PackFor"/>, <see cref="WrapForward"/>, <see cref="ForwardAsync"/>). Used by the tests, the bench and the
/// black-box mediator suite, against this mediator or any other.
/// </summary>
public sealed class V2Client : V2Session, IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly V2ClientOptions _options;

    /// <summary>A client of the mediator <paramref name="mediatorDid"/>; its endpoints come from the DID's
    /// DIDCommMessaging services (the first http(s) and the first ws(s) URI).</summary>
    public V2Client(string mediatorDid, V2ClientOptions? options = null) : this(mediatorDid, options, null) { }

    private V2Client(string mediatorDid, V2ClientOptions? options, V2Inbox? inbox)
    {
        ArgumentException.ThrowIfNullOrEmpty(mediatorDid);
        _options = options ?? new V2ClientOptions();
        Entropy = _options.Entropy;
        Identity = _options.Identity ?? V2Identity.Create(Entropy, _options.Endpoints);
        MediatorDid = mediatorDid;
        var services = V2Resolver.Shared.Services(mediatorDid);
        var http = services.Select(s => s.Endpoint).FirstOrDefault(u => u.StartsWith("http", StringComparison.OrdinalIgnoreCase));
        var ws = services.Select(s => s.Endpoint).FirstOrDefault(u => u.StartsWith("ws", StringComparison.OrdinalIgnoreCase));
        MediatorHttp = http is null ? null : new Uri(http);
        MediatorWs = ws is null ? null : new Uri(ws);
        _ownsHttp = _options.Http is null;
        _http = _options.Http ?? new HttpClient { Timeout = _options.Timeout };
        Inbox = inbox;
        inbox?.Attach(this);
    }

    /// <summary>A client with an HTTP inbox on 127.0.0.1 (a free port) advertised in its DID, so that replies sent
    /// without return_route (asynchronously) reach it: see <see cref="Inbox"/>.</summary>
    public static async Task<V2Client> CreateWithInboxAsync(string mediatorDid, V2ClientOptions? options = null, CancellationToken ct = default)
    {
        options ??= new V2ClientOptions();
        if (options.Identity is not null) throw new ArgumentException("an inbox client makes its own identity (its DID carries the inbox URL)");
        var inbox = await V2Inbox.StartAsync(ct);
        var copy = new V2ClientOptions { Entropy = options.Entropy, Http = options.Http, Timeout = options.Timeout, Endpoints = [inbox.Endpoint.ToString()], Observer = options.Observer };
        return new V2Client(mediatorDid, copy, inbox);
    }

    public override V2Client Client => this;
    public V2Identity Identity { get; }
    public string Did => Identity.Did;
    public string MediatorDid { get; }
    public Uri? MediatorHttp { get; }
    public Uri? MediatorWs { get; }
    public Entropy Entropy { get; }

    /// <summary>Messages that arrived at this client's own endpoint (only with <see cref="CreateWithInboxAsync"/>).</summary>
    public V2Inbox? Inbox { get; }

    internal void Observe(string direction, string transport, Uri? endpoint, string? envelope, V2Message? message, string? note = null) =>
        _options.Observer?.Invoke(new V2Traffic(direction, transport, endpoint?.ToString(), envelope, message, note));

    // ================================================================== messages

    /// <summary>A message to the mediator: fresh id, <c>from</c> = this client (unless <paramref name="anonymous"/>),
    /// <c>to</c> = the mediator, <c>created_time</c> = now, and <c>return_route: all</c> unless <paramref name="returnRoute"/>
    /// says otherwise (null = no header).</summary>
    public V2Message NewMessage(string type, JsonObject? body = null, string? thid = null, string? returnRoute = "all", bool anonymous = false)
    {
        var headers = new JsonObject();
        if (returnRoute is not null) headers["return_route"] = returnRoute;
        return new V2Message
        {
            Id = Entropy.NewUuid(),
            Type = type,
            From = anonymous ? null : Did,
            To = [MediatorDid],
            Thid = thid,
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Body = body ?? [],
            Headers = headers,
        };
    }

    /// <summary>Packs a message for the mediator.</summary>
    public string Pack(V2Message message, PackMode mode = PackMode.Authcrypt) => mode switch
    {
        PackMode.Authcrypt => V2Packer.Authcrypt(message, Identity, MediatorDid, Entropy),
        PackMode.Anoncrypt => V2Packer.Anoncrypt(message, MediatorDid, Entropy),
        PackMode.Signed => V2Packer.Sign(message, Identity),
        PackMode.SignedThenAnoncrypt => V2Packer.Anoncrypt(Encoding.UTF8.GetBytes(V2Packer.Sign(message, Identity)),
            V2Resolver.Shared.KeyAgreementKeys(MediatorDid), ContentAlg.A256CbcHs512, Entropy),
        _ => message.ToJson(),
    };

    /// <summary>Unpacks a message addressed to this client (its X25519 key).</summary>
    public V2Unpacked Unpack(ReadOnlySpan<byte> envelope) =>
        V2Packer.Unpack(envelope, kid => kid == Identity.Agreement.Kid ? Identity.Agreement : null);

    public V2Unpacked Unpack(string envelope) => Unpack(Encoding.UTF8.GetBytes(envelope));

    // ================================================================== HTTP

    public override async Task<V2Unpacked?> RequestAsync(V2Message request, PackMode mode = PackMode.Authcrypt, CancellationToken ct = default)
    {
        var r = await PostAsync(request, mode, ct);
        if (r.StatusCode >= 400) throw new V2ProblemException($"HTTP {r.StatusCode}: {r.Error ?? r.Body}", r.StatusCode, r.ErrorCode);
        return r.Reply;
    }

    /// <summary>POSTs a message packed with <paramref name="mode"/>.</summary>
    public Task<V2HttpResult> PostAsync(V2Message message, PackMode mode = PackMode.Authcrypt, CancellationToken ct = default) =>
        PostCoreAsync(Encoding.UTF8.GetBytes(Pack(message, mode)), mode switch
        {
            PackMode.Signed => MediaTypes.Signed,
            PackMode.Plaintext => MediaTypes.Plain,
            _ => MediaTypes.Encrypted,
        }, message, ct);

    /// <summary>POSTs an envelope as is; the reply (if any) is unpacked.</summary>
    public Task<V2HttpResult> PostEnvelopeAsync(string envelope, string? contentType = MediaTypes.Encrypted, CancellationToken ct = default) =>
        PostEnvelopeAsync(Encoding.UTF8.GetBytes(envelope), contentType, ct);

    /// <summary>POSTs envelope bytes as they are (negative tests can send anything); the reply (if any) is unpacked.</summary>
    public Task<V2HttpResult> PostEnvelopeAsync(byte[] envelope, string? contentType = MediaTypes.Encrypted, CancellationToken ct = default) =>
        PostCoreAsync(envelope, contentType, null, ct);

    /// <summary>POSTs an envelope whose plaintext the caller knows (a forward it wrapped, a message it tampered with),
    /// so that an observer sees both.</summary>
    public Task<V2HttpResult> PostEnvelopeAsync(string envelope, V2Message plaintext, string? contentType = MediaTypes.Encrypted, CancellationToken ct = default) =>
        PostCoreAsync(Encoding.UTF8.GetBytes(envelope), contentType, plaintext, ct);

    private async Task<V2HttpResult> PostCoreAsync(byte[] envelope, string? contentType, V2Message? plaintext, CancellationToken ct)
    {
        var uri = MediatorHttp ?? throw new InvalidOperationException("the mediator DID has no http(s) endpoint");
        Observe("out", "http", uri, Encoding.UTF8.GetString(envelope), plaintext);
        using var content = new ByteArrayContent(envelope);
        if (contentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _http.PostAsync(uri, content, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var status = (int)response.StatusCode;
        V2Unpacked? reply = null;
        if (status is >= 200 and < 300 && body.Length > 0)
        {
            try { reply = Unpack(body); }
            catch (DidCommException e)
            {
                Observe("in", "http", uri, body, null, $"HTTP {status}; not unpacked: {e.Message}");
                throw;
            }
        }
        Observe("in", "http", uri, body.Length == 0 ? null : body, reply?.Message,
            reply is null ? $"HTTP {status}{(body.Length == 0 ? " (empty body)" : "")}" : $"HTTP {status}");
        return new V2HttpResult(status, mediaType, body, reply);
    }

    /// <summary>Opens a WebSocket to the mediator.</summary>
    public Task<V2Socket> ConnectAsync(CancellationToken ct = default) =>
        V2Socket.ConnectAsync(this, MediatorWs ?? throw new InvalidOperationException("the mediator DID has no ws(s) endpoint"), ct);

    // ================================================================== sender side of routing

    /// <summary>Encrypts a plaintext for its final recipient (anoncrypt with <paramref name="enc"/>, or authcrypt from this
    /// client when <paramref name="authcrypt"/>) — the envelope a forward carries.</summary>
    public string PackFor(V2Message plaintext, string recipientDid, ContentAlg enc = ContentAlg.XC20P, bool authcrypt = false) =>
        authcrypt ? V2Packer.Authcrypt(plaintext.With(from: Did), Identity, recipientDid, Entropy)
                  : V2Packer.Anoncrypt(plaintext, recipientDid, Entropy, enc);

    /// <summary>A <c>forward</c> to <paramref name="next"/> carrying <paramref name="innerEnvelope"/>, anoncrypted to the
    /// mediator with <paramref name="enc"/> (the sender stays anonymous to the mediator).</summary>
    public string WrapForward(ReadOnlySpan<byte> innerEnvelope, string next, ContentAlg enc = ContentAlg.XC20P, bool attachAsJson = true) =>
        V2Routing.WrapInForward(innerEnvelope, next, [MediatorDid], Entropy, enc, attachAsJson: attachAsJson);

    public string WrapForward(string innerEnvelope, string next, ContentAlg enc = ContentAlg.XC20P, bool attachAsJson = true) =>
        WrapForward(Encoding.UTF8.GetBytes(innerEnvelope), next, enc, attachAsJson);

    /// <summary>Wraps and POSTs a forward. 202 with an empty body means the mediator committed it to the queue.</summary>
    public Task<V2HttpResult> ForwardAsync(string innerEnvelope, string next, ContentAlg enc = ContentAlg.XC20P, CancellationToken ct = default) =>
        PostEnvelopeAsync(WrapForward(innerEnvelope, next, enc), MediaTypes.Encrypted, ct);

    public async ValueTask DisposeAsync()
    {
        if (_ownsHttp) _http.Dispose();
        if (Inbox is not null) await Inbox.DisposeAsync();
    }
}
