using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Dclm.Server.Api;
using Microsoft.AspNetCore.Connections;

namespace Dclm.Server.Hosting;

/// <summary>
/// Gives Kestrel's own error responses an OpenAI-style JSON body. A request Kestrel cannot parse (a bad request
/// line, a <c>Content-Length: -5</c>, headers over the size limit) is answered before any middleware runs, as a
/// bare head with <c>Content-Length: 0</c>, and Kestrel offers no hook for its body. This connection middleware
/// sees each flush of the connection's output: a flush that is exactly one such head, with a 4xx or 5xx status,
/// is written out with a JSON error body instead. The application never sends an empty error response (the
/// server's first middleware gives every one a body), and its bodies never start with a status line, so no
/// other output matches.
/// </summary>
internal static class KestrelErrorBodies
{
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection =>
    {
        connection.Transport = new Pipe(connection.Transport.Input, new ErrorBodyWriter(connection.Transport.Output));
        return next(connection);
    };

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>Holds what Kestrel writes until it flushes, then passes it on, rewritten when it is a bare error head.</summary>
    private sealed class ErrorBodyWriter(PipeWriter inner) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> pending = new(4096);

        public override void Advance(int bytes) => pending.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => pending.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => pending.GetSpan(sizeHint);

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => pending.WrittenCount;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            MovePending();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Complete(Exception? exception = null)
        {
            MovePending();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            MovePending();
            return inner.CompleteAsync(exception);
        }

        private void MovePending()
        {
            if (pending.WrittenCount == 0) return;
            inner.Write(ErrorResponse.WithJsonBody(pending.WrittenSpan) ?? pending.WrittenSpan);
            pending.ResetWrittenCount();
        }
    }
}

/// <summary>Rewrites a bare HTTP/1.x error head (status 4xx or 5xx, <c>Content-Length: 0</c>, nothing after it) to carry a JSON error body.</summary>
internal static class ErrorResponse
{
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>The rewritten response, or null when <paramref name="output"/> is anything else.</summary>
    public static byte[]? WithJsonBody(ReadOnlySpan<byte> output)
    {
        if (!output.StartsWith("HTTP/1."u8) || output.Length > 4096 || output.IndexOf(HeadEnd) != output.Length - HeadEnd.Length)
            return null;
        string head = Encoding.ASCII.GetString(output[..^HeadEnd.Length]);
        string[] lines = head.Split("\r\n");
        string[] statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !int.TryParse(statusLine[1], out int status) || status < 400 || status > 599)
            return null;
        bool emptyBody = false;
        var kept = new StringBuilder();
        kept.Append(lines[0]).Append("\r\n");
        foreach (string line in lines.Skip(1))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                emptyBody = line["Content-Length:".Length..].Trim() == "0";
                continue;
            }
            if (line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase))
                return null;
            kept.Append(line).Append("\r\n");
        }
        if (!emptyBody) return null;
        byte[] body = ApiException.ErrorBody(Message(status), status >= 500 ? "server_error" : "invalid_request_error");
        kept.Append("Content-Type: application/json\r\n").Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(kept.ToString()), .. body];
    }

    private static string Message(int status) => status switch
    {
        400 => "the request is not valid HTTP/1.1: a malformed request line, header or Content-Length, or a missing Host header",
        408 => "the request headers took too long to arrive",
        411 => "the request needs a Content-Length or a chunked body",
        413 => "the request body is larger than the server accepts",
        414 => "the request line is longer than the server accepts",
        431 => "the request headers are larger than the server accepts (32 KiB in all)",
        505 => "the HTTP version is not supported; use HTTP/1.1",
        _ => $"the HTTP server refused the request (status {status})",
    };
}
