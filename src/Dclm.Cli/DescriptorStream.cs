using System.Runtime.InteropServices;

namespace Dclm.Cli;

/// <summary>
/// A write-only stream over a Unix file descriptor that writes with <c>write(2)</c>, at the descriptor's shared file
/// offset, as C's stdio does. A <see cref="FileStream"/> on a regular file keeps its own position and writes with
/// <c>pwrite</c>, so with <c>dclm ... &gt; log 2&gt;&amp;1</c> standard output and standard error (one open file,
/// two streams) would each start at offset 0 and overwrite each other's lines.
/// </summary>
internal sealed unsafe partial class DescriptorStream(int descriptor) : Stream
{
    private const int Interrupted = 4; // EINTR

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var result = write(descriptor, start + written, buffer.Length - written);
                if (result >= 0) { written += (int)result; continue; }
                var error = Marshal.GetLastPInvokeError();
                if (error == Interrupted) continue;
                throw new IOException($"cannot write to file descriptor {descriptor} (errno {error})");
            }
        }
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);
}
