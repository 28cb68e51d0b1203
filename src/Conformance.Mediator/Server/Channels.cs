using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace Conformance.Mediator;

/// <summary>
/// Where a reply to an inbound message can go back synchronously (the <c>return_route</c> extension): the open HTTP
/// request, or the WebSocket the message arrived on.
/// </summary>
internal interface IReplyChannel
{
    /// <summary>"http" or "ws".</summary>
    string Transport { get; }

    /// <summary>pickup 3.0: "Live Mode MUST only be enabled when a persistent transport is used, such as WebSockets".</summary>
    WsSession? Session { get; }

    /// <summary>return_route "all" was set on this WebSocket: "This header must be set each time the communication
    /// channel is established: once per established websocket, and every message for an HTTP POST."</summary>
    bool ReturnRouteAll { get; set; }

    ValueTask<bool> TrySendAsync(string envelope, string mediaType, CancellationToken ct);
}

/// <summary>One HTTP POST: it can carry exactly one reply back in its response body.</summary>
internal sealed class HttpReplyChannel : IReplyChannel
{
    public string Transport => "http";
    public WsSession? Session => null;
    public bool ReturnRouteAll { get => false; set { } }
    public string? Reply { get; private set; }
    public string? MediaType { get; private set; }

    public ValueTask<bool> TrySendAsync(string envelope, string mediaType, CancellationToken ct)
    {
        if (Reply is not null) return ValueTask.FromResult(false);
        Reply = envelope;
        MediaType = mediaType;
        return ValueTask.FromResult(true);
    }
}

/// <summary>
/// One inbound WebSocket. Replies and live deliveries share one send lock (a WebSocket allows one send at a time).
/// <para><b>Live delivery and acknowledgement.</b> When the client turns live mode on (live-delivery-change over this
/// socket), forwards for it that commit afterwards are offered to <see cref="OfferLive"/>. A pump batches whatever is
/// waiting (up to <see cref="MediatorOptions.LiveBatchMessages"/> / <see cref="MediatorOptions.LiveBatchBytes"/>) into ONE <c>delivery</c> message — the same message
/// type and attachment ids as a delivery-request answer — authcrypted to the client. Nothing is deleted on send: the
/// messages stay queued until the client names their ids in messages-received, exactly as for polled pickup. A client
/// that vanishes mid-delivery therefore loses nothing: the unacknowledged messages are still in the queue and come back
/// with its next delivery-request (pickup 3.0: "If Live Mode is active, and the connection is broken, a new inbound
/// connection starts with Live Mode disabled").</para>
/// </summary>
internal sealed class WsSession : IReplyChannel, IAsyncDisposable
{
    private readonly WebSocket _ws;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private Channel<StoredMessage>? _live;
    private Task? _pump;

    public WsSession(WebSocket ws) => _ws = ws;

    public string Transport => "ws";
    public WsSession Session => this;
    public bool ReturnRouteAll { get; set; }

    /// <summary>The client DID live delivery is on for, or null.</summary>
    public string? LiveOwner { get; private set; }

    public bool IsLive => LiveOwner is not null;

    public async ValueTask<bool> TrySendAsync(string envelope, string mediaType, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(envelope);
        try
        {
            await _sendLock.WaitAsync(ct);
            try
            {
                if (_ws.State != WebSocketState.Open) return false;
                await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
                return true;
            }
            finally { _sendLock.Release(); }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { return false; }
    }

    public void EnableLive(string owner, Func<IReadOnlyList<StoredMessage>, string> packDelivery, int batch, int batchBytes, TimeSpan linger, Action<string>? log)
    {
        if (LiveOwner == owner) return;
        DisableLive();
        LiveOwner = owner;
        _live = Channel.CreateUnbounded<StoredMessage>(new UnboundedChannelOptions { SingleReader = true });
        var reader = _live.Reader;
        _pump = Task.Run(async () =>
        {
            var items = new List<StoredMessage>(batch);
            try
            {
                while (await reader.WaitToReadAsync(_cts.Token))
                {
                    if (linger > TimeSpan.Zero && reader.CanCount && reader.Count < batch) await Task.Delay(linger, _cts.Token);
                    items.Clear();
                    var bytes = 0;
                    while (items.Count < batch && bytes < batchBytes && reader.TryRead(out var m))
                    {
                        items.Add(m);
                        bytes += m.Envelope.Length;
                    }
                    if (items.Count == 0) continue;
                    string envelope;
                    try { envelope = packDelivery(items); }
                    catch (Exception e) when (e is DidCommException or StorageException)
                    {
                        log?.Invoke("live delivery: cannot pack: " + e.Message);
                        continue;   // still queued; the client gets them with its next delivery-request
                    }
                    if (!await TrySendAsync(envelope, Wire.DidComm2.MediaTypes.Encrypted, _cts.Token)) break;
                }
            }
            catch (OperationCanceledException) { }
        });
    }

    public void DisableLive()
    {
        LiveOwner = null;
        _live?.Writer.TryComplete();
        _live = null;
    }

    public void OfferLive(IReadOnlyList<StoredMessage> messages)
    {
        var ch = _live;
        if (ch is null) return;
        foreach (var m in messages) ch.Writer.TryWrite(m);
    }

    public async ValueTask DisposeAsync()
    {
        DisableLive();
        _cts.Cancel();
        if (_pump is not null) { try { await _pump; } catch (OperationCanceledException) { } }
        _cts.Dispose();
    }
}

/// <summary>The live sessions per client DID.</summary>
internal sealed class LiveRegistry
{
    private readonly ConcurrentDictionary<string, WsSession[]> _sessions = new(StringComparer.Ordinal);

    public void Add(string owner, WsSession s) =>
        _sessions.AddOrUpdate(owner, [s], (_, old) => old.Contains(s) ? old : [.. old, s]);

    public void Remove(string owner, WsSession s)
    {
        while (_sessions.TryGetValue(owner, out var old))
        {
            var next = old.Where(x => x != s).ToArray();
            if (next.Length == 0 ? _sessions.TryRemove(new KeyValuePair<string, WsSession[]>(owner, old)) : _sessions.TryUpdate(owner, next, old)) return;
        }
    }

    public void Offer(string owner, IReadOnlyList<StoredMessage> messages)
    {
        if (!_sessions.TryGetValue(owner, out var list)) return;
        foreach (var s in list) s.OfferLive(messages);
    }

    public bool HasLive(string owner) => _sessions.ContainsKey(owner);
}
