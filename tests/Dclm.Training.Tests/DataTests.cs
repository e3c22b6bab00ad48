using System.Buffers.Binary;
using Dclm.Training.Data;

namespace Dclm.Training.Tests;

public class DataTests
{
    private static TokenWindows Windows(string name, int count, int start) =>
        new(name, Enumerable.Range(start, count * 5).ToArray(), 5);

    [Fact]
    public void StagesSwitchSourcesAtTheirTokenBudgets()
    {
        var general = Windows("general", 10, 0);
        var domain = Windows("domain", 10, 1000);
        var stages = new[]
        {
            new MixingStage("general", 4 * 20, new Dictionary<string, double> { ["general"] = 1 }),
            new MixingStage("domain", 0, new Dictionary<string, double> { ["domain"] = 1 }),
        };
        var mixer = new DataMixer([general, domain], stages, 3);
        var batch = new int[10 * 5];
        mixer.Next(10, batch);
        // 80 tokens = 20 windows of 4 targets... the first 20 samples are general, so this whole batch is.
        Assert.All(Enumerable.Range(0, 10), b => Assert.True(batch[b * 5] < 1000));
        mixer.Next(10, batch);
        mixer.Next(10, batch);
        Assert.All(Enumerable.Range(0, 10), b => Assert.True(batch[b * 5] >= 1000));
        Assert.Equal("domain", mixer.CurrentStage.Name);
    }

    [Fact]
    public void WeightsSetTheShareOfEachSourceAndEveryWindowIsSeenOncePerEpoch()
    {
        var a = Windows("a", 50, 0);
        var b = Windows("b", 50, 100_000);
        var mixer = new DataMixer([a, b], [new MixingStage("mix", 0, new Dictionary<string, double> { ["a"] = 3, ["b"] = 1 })], 11);
        var batch = new int[400 * 5];
        mixer.Next(400, batch);
        int fromA = Enumerable.Range(0, 400).Count(i => batch[i * 5] < 100_000);
        Assert.InRange(fromA, 260, 340);
        var firstEpochOfA = Enumerable.Range(0, 400).Select(i => batch[i * 5]).Where(t => t < 100_000).Take(50).ToHashSet();
        Assert.Equal(50, firstEpochOfA.Count);
    }

    [Fact]
    public void RestoringACursorContinuesTheSameStream()
    {
        var source = Windows("a", 7, 0);
        var stages = Array.Empty<MixingStage>();
        var reference = new DataMixer([source], stages, 5);
        var all = new int[30 * 5];
        reference.Next(30, all);
        var first = new DataMixer([source], stages, 5);
        var part = new int[12 * 5];
        first.Next(12, part);
        var second = new DataMixer([source], stages, 5) { Cursor = first.Cursor };
        var rest = new int[18 * 5];
        second.Next(18, rest);
        Assert.Equal(all, part.Concat(rest).ToArray());
    }

    [Fact]
    public void ShardDirectoryWithManifestIsRead()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        void Shard(string name, params uint[] tokens)
        {
            var bytes = new byte[tokens.Length * 4];
            for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), tokens[i]);
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
        Shard("shard-00001.bin", 4, 5, 6);
        Shard("shard-00000.bin", 1, 2, 3);
        // The dclm-tokens-v1 manifest that `dclm data tokenize` writes (see docs/data-pipeline.md).
        File.WriteAllText(Path.Combine(directory, "manifest.json"), """
            {"format": "dclm-tokens-v1", "vocab_size": 10, "window_length": 3, "eot_id": 0, "dtype": "uint32", "byte_order": "little", "windows": 2,
             "shards": [{"file": "shard-00000.bin", "windows": 1, "sha256": ""}, {"file": "shard-00001.bin", "windows": 1, "sha256": ""}]}
            """);
        Assert.Equal([1, 2, 3, 4, 5, 6], TokenFileReader.Read(directory, null, 10));
        var e = Assert.Throws<InvalidDataException>(() => TokenFileReader.Read(directory, null, 8));
        Assert.Contains("larger than the model's 8", e.Message);
        Shard("shard-00001.bin", 4, 5);
        e = Assert.Throws<InvalidDataException>(() => TokenFileReader.Read(directory, null, 10));
        Assert.Contains("shard-00001.bin", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0 }, "whole number")]
    [InlineData(new byte[] { 50, 0, 0, 0 }, "outside the vocabulary")]
    public void BadTokenFilesGiveOneLineErrors(byte[] content, string expected)
    {
        string path = Path.Combine(TrainingFixtures.TemporaryDirectory(), "bad.bin");
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<InvalidDataException>(() => TokenFileReader.Read(path, null, 10));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ManifestThatEscapesTheDirectoryIsRejected()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        File.WriteAllText(Path.Combine(directory, "manifest.json"), """{"shards": ["../../etc/passwd"]}""");
        Assert.Throws<InvalidDataException>(() => TokenFileReader.Read(directory, null, 10));
    }
}
