namespace Dclm.Formats;

/// <summary>
/// Passes writes through to a file stream while counting them, and refuses to go past the byte count
/// the tensor's shape and type promise. A streaming callback that writes too much or too little is
/// caught here rather than producing a file whose offsets lie.
/// </summary>
public sealed class BoundedWriteStream(Stream inner, long expectedBytes, string tensorName) : Stream
{
    public long Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > expectedBytes - Written)
            throw new InvalidOperationException($"tensor '{tensorName}': the data callback wrote more than the {expectedBytes} bytes its shape and type take");
        inner.Write(buffer);
        Written += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Throws unless exactly the promised number of bytes arrived.</summary>
    public void CheckComplete()
    {
        if (Written != expectedBytes)
            throw new InvalidOperationException($"tensor '{tensorName}': the data callback wrote {Written} bytes, its shape and type take {expectedBytes}");
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
