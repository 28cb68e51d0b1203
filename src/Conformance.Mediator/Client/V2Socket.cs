using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace Conformance.Mediator;

/// <summary>
/// One WebSocket from a <see cref="V2Client"/> to the mediator (transports.md "WebSockets": "Each message MUST be
/// transmitted individually"). A background reader unpacks everything that arrives: a message whose <c>thid</c> (or, for
/// a problem report, <c>pthid</c>) answers a pending <see cref="RequestAsync"/> completes it; everything else — live
/// deliveries, signed problem reports about undecryptable input — goes to <see cref="Incoming"/>.
/// </summary>
public sealed class V2Socket : V2Session, IAsyncDisposable
{
    private readonly V2Client _client;
    private readonly ClientWebSocket _ws;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<V2Unpacked>> _pending = new(StringComparer.Ordinal);
    private readonly Channel<V2Unpacked> _incoming = Channel.CreateUnbounded<V2Unpacked>();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _reader;

    private V2Socket(V2Client client, ClientWebSocket ws)
    {
        _client = client;
        _ws = ws;
        _reader = Task.Run(ReadLoopAsync);
    }

    public override V2Client Client => _client;

    /// <summary>Unsolicited messages: live deliveries, and anything not answering a pending request.</summary>
    public ChannelReader<V2Unpacked> Incoming => _incoming.Reader;

    /// <summary>Inbound messages that could not be unpacked (one line each).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>How long <see cref="RequestAsync"/> waits for a reply.</summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsOpen => _ws.State == WebSocketState.Open;

    internal static async Task<V2Socket> ConnectAsync(V2Client client, Uri uri, CancellationToken ct)
    {
        var ws = new ClientWebSocket();
        ws.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        await ws.ConnectAsync(uri, ct);
        return new V2Socket(client, ws);
    }

    /// <summary>Sends a message packed with <paramref name="mode"/> without waiting for anything.</summary>
    public Task SendAsync(V2Message message, PackMode mode = PackMode.Authcrypt, CancellationToken ct = default) =>
        SendEnvelopeAsync(_client.Pack(message, mode), message, ct);

    public Task SendEnvelopeAsync(string envelope, CancellationToken ct = default) => SendEnvelopeAsync(envelope, null, ct);

    /// <summary>Sends an envelope whose plaintext the caller knows (so that an observer sees both).</summary>
    public async Task SendEnvelopeAsync(string envelope, V2Message? plaintext, CancellationToken ct = default)
    {
        _client.Observe("out", "ws", _client.MediatorWs, envelope, plaintext);
        var bytes = Encoding.UTF8.GetBytes(envelope);
        await _sendLock.WaitAsync(ct);
        try { await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct); }
        finally { _sendLock.Release(); }
    }

    /// <summary>Sends and waits for the reply on the request's thread (a problem report about it counts). Over a
    /// WebSocket there is no "accepted, nothing to return": a request without reply times out.</summary>
    public override async Task<V2Unpacked?> RequestAsync(V2Message request, PackMode mode = PackMode.Authcrypt, CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource<V2Unpacked>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[request.Id] = tcs;
        try
        {
            await SendAsync(request, mode, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
            timeout.CancelAfter(ReplyTimeout);
            try { return await tcs.Task.WaitAsync(timeout.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"no reply to {request.Type} within {ReplyTimeout.TotalSeconds:0.#} s");
            }
        }
        finally { _pending.TryRemove(request.Id, out _); }
    }

    /// <summary>The next unsolicited message, or throws <see cref="TimeoutException"/>.</summary>
    public async Task<V2Unpacked> ReceiveAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { return await _incoming.Reader.ReadAsync(cts.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new TimeoutException($"nothing arrived within {timeout.TotalSeconds:0.#} s"); }
        catch (ChannelClosedException) { throw new TimeoutException("the WebSocket is closed"); }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var ms = new MemoryStream();
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                ms.SetLength(0);
                WebSocketReceiveResult r;
                do
                {
                    r = await _ws.ReceiveAsync(buffer, _cts.Token);
                    if (r.MessageType == WebSocketMessageType.Close) return;
                    ms.Write(buffer, 0, r.Count);
                } while (!r.EndOfMessage);
                V2Unpacked u;
                try { u = _client.Unpack(ms.GetBuffer().AsSpan(0, (int)ms.Length)); }
                catch (DidCommException e)
                {
                    Errors.Enqueue($"{e.Code}: {e.Message}");
                    _client.Observe("in", "ws", _client.MediatorWs, Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length), null, "not unpacked: " + e.Message);
                    continue;
                }
                _client.Observe("in", "ws", _client.MediatorWs, Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length), u.Message);
                var m = u.Message;
                if ((m.Thid is { } thid && _pending.TryGetValue(thid, out var tcs)) || (m.Pthid is { } pthid && _pending.TryGetValue(pthid, out tcs)))
                    tcs.TrySetResult(u);
                else
                    _incoming.Writer.TryWrite(u);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            _incoming.Writer.TryComplete();
            foreach (var p in _pending.Values) p.TrySetException(new TimeoutException("the WebSocket closed before the reply arrived"));
        }
    }

    /// <summary>Closes the socket politely.</summary>
    public async Task CloseAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var t = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, t.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    /// <summary>Drops the connection without a close handshake (a client "vanishing").</summary>
    public void Abort() => _ws.Abort();

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _cts.Cancel();
        try { await _reader.WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        _ws.Dispose();
        _cts.Dispose();
    }
}
