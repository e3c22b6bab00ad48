using Dclm.Formats.Gguf;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;

namespace Dclm.Formats.Tests;

/// <summary>A file read into memory (<see cref="FileResidence.Copied"/>) reads exactly as the same file mapped.</summary>
public unsafe class FileResidenceTests
{
    [Fact]
    public void CopiedGgufHoldsTheMappedBytes()
    {
        using GgufFile mapped = GgufFile.Open(Fixtures.Path("sample.gguf"));
        using GgufFile copied = GgufFile.Open(Fixtures.Path("sample.gguf"), FileResidence.Copied);
        Assert.Equal(FileResidence.Mapped, mapped.Residence);
        Assert.Equal(FileResidence.Copied, copied.Residence);
        Assert.Equal(0, mapped.HugePageBytes);
        Assert.InRange(copied.HugePageBytes, 0, 2 << 20);
        Assert.Equal(mapped.Metadata.Keys, copied.Metadata.Keys);
        Assert.Equal(mapped.GetStringArray("test.strings"), copied.GetStringArray("test.strings"));
        Assert.Equal(mapped.Tensors.Keys, copied.Tensors.Keys);
        foreach (var (name, entry) in mapped.Tensors)
        {
            var other = copied.Tensors[name];
            Assert.True(entry.Data != other.Data, $"{name} was not copied");
            Assert.Equal(entry.Shape, other.Shape);
            Assert.True(new ReadOnlySpan<byte>(entry.Data, (int)entry.ByteLength).SequenceEqual(new ReadOnlySpan<byte>(other.Data, (int)other.ByteLength)), $"{name} differs");
        }
    }

    /// <summary>A file over one 64 MB read (and not a multiple of it) arrives whole, every piece counted once.</summary>
    [Fact]
    public void LargeFileIsReadWholeInPieces()
    {
        using var directory = new TempDirectory();
        string path = directory.File("large.gguf");
        const int floats = (70 << 20) / 4 + 12345;
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        writer.AddTensor("big", GgmlType.F32, [floats], stream =>
        {
            var buffer = new byte[1 << 20];
            ulong state = 88172645463325252UL;
            for (long written = 0; written < floats * 4L; written += buffer.Length)
            {
                for (int i = 0; i < buffer.Length; i += 8)
                {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                    BitConverter.TryWriteBytes(buffer.AsSpan(i), state);
                }
                stream.Write(buffer, 0, (int)Math.Min(buffer.Length, floats * 4L - written));
            }
        });
        writer.Write(path);

        long reported = 0;
        using GgufFile mapped = GgufFile.Open(path);
        using GgufFile copied = GgufFile.Open(path, FileResidence.Copied, count => reported += count);
        Assert.Equal(new FileInfo(path).Length, reported);
        var a = mapped.Tensors["big"];
        var b = copied.Tensors["big"];
        for (long offset = 0; offset < a.ByteLength; offset += int.MaxValue / 2)
        {
            int length = (int)Math.Min(int.MaxValue / 2, a.ByteLength - offset);
            Assert.True(new ReadOnlySpan<byte>(a.Data + offset, length).SequenceEqual(new ReadOnlySpan<byte>(b.Data + offset, length)));
        }
    }

    /// <summary>Every lying file of <see cref="GgufBadInputTests"/> fails the same way when read into memory.</summary>
    [Fact]
    public void LyingFilesFailTheSameWayWhenCopied()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.gguf");
        foreach (var row in GgufBadInputTests.Cases)
        {
            string name = (string)row[0], fragment = (string)row[1];
            File.WriteAllBytes(path, GgufBadInputTests.Make(name));
            var error = BadInput.TryOpen(path, p => GgufFile.Open(p, FileResidence.Copied));
            if (fragment.Length == 0) Assert.Null(error);
            else Assert.Contains(fragment, error?.Message ?? $"{name}: opened");
        }
    }

    /// <summary>The sharded fixture, opened through its index: every shard is copied.</summary>
    [Fact]
    public void CopiedSafetensorsCheckpointHoldsTheMappedBytes()
    {
        string path = Fixtures.Path("dclm-tiny");
        using var mapped = SafetensorsCheckpoint.Open(path);
        using var copied = SafetensorsCheckpoint.Open(path, FileResidence.Copied);
        Assert.True(copied.Files.Count >= 2, "expected a sharded fixture");
        Assert.All(copied.Files, file => Assert.Equal(FileResidence.Copied, file.Residence));
        foreach (var (name, entry) in mapped.Tensors)
        {
            var other = copied.Tensors[name];
            Assert.True(entry.Data != other.Data);
            Assert.True(new ReadOnlySpan<byte>(entry.Data, (int)entry.ByteLength).SequenceEqual(new ReadOnlySpan<byte>(other.Data, (int)other.ByteLength)), $"{name} differs");
        }
    }
}
