using Dclm.Data.IO;
using Dclm.Data.Tokenize;
using Dclm.Formats;
using Dclm.Tokenizers;

namespace Dclm.Data.Tests;

public class TokenizeTests
{
    private static string VocabularyPath => Fixtures.PathOf("gpt-neox-20b.vocab.gguf");

    private static (string Input, List<Documents.Document> Documents) Corpus()
    {
        var root = Fixtures.TemporaryDirectory();
        var documents = Fixtures.Read("prose.jsonl.zst").Take(12).ToList();
        var path = Path.Combine(root, "documents", "documents-00000.jsonl.zst");
        AtomicFile.Write(path, stream =>
        {
            using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), path);
            DocumentJsonl.WriteAll(compressed, documents);
        });
        return (root, documents);
    }

    [Fact]
    public void WindowsAreTheShuffledConcatenationOfDocumentsWithEot()
    {
        var (input, documents) = Corpus();
        var output = Path.Combine(input, "tokens");
        var manifest = TokenizeRunner.Run(new TokenizeOptions(input, VocabularyPath, output) { WindowLength = 64, WindowsPerShard = 7, Seed = 5, Threads = 2 });

        var tokenizer = Tokenizer.Load(VocabularyPath);
        Assert.Equal(0, manifest.EotId); // GPT-NeoX <|endoftext|>
        var stream = documents.SelectMany(d => tokenizer.Encode(d.Text).Append(manifest.EotId)).Select(i => (uint)i).ToList();
        long windows = stream.Count / 64;
        Assert.Equal(windows, manifest.Windows);
        Assert.Equal(stream.Count % 64, manifest.DroppedTailTokens);
        Assert.Equal(documents.Count, manifest.Documents);
        Assert.Equal((int)Math.Ceiling(windows / 7.0), manifest.Shards.Count);

        var order = TokenizeRunner.Permutation(windows, 5);
        var read = TokenShardReader.ReadWindows(output).ToList();
        Assert.Equal(windows, read.Count);
        for (int k = 0; k < read.Count; k++)
            Assert.Equal(stream.GetRange((int)(order[k] * 64), 64), read[k]);
        Assert.NotEqual(Enumerable.Range(0, (int)windows).Select(i => (long)i), order); // actually shuffled
        Assert.Equal(documents.Count, read.Sum(w => w.Count(t => t == 0)) + stream.Skip((int)windows * 64).Count(t => t == 0));
    }

    [Fact]
    public void SameSeedGivesIdenticalShards()
    {
        var (input, _) = Corpus();
        var a = TokenizeRunner.Run(new TokenizeOptions(input, VocabularyPath, Path.Combine(input, "a")) { WindowLength = 128, Seed = 9 });
        var b = TokenizeRunner.Run(new TokenizeOptions(input, VocabularyPath, Path.Combine(input, "b")) { WindowLength = 128, Seed = 9, Threads = 2 });
        Assert.Equal(a.Shards.Select(s => s.Sha256), b.Shards.Select(s => s.Sha256));
    }

    [Fact]
    public void CorruptedShardIsDetected()
    {
        var (input, _) = Corpus();
        var output = Path.Combine(input, "tokens");
        var manifest = TokenizeRunner.Run(new TokenizeOptions(input, VocabularyPath, output) { WindowLength = 64 });
        var shard = Path.Combine(output, manifest.Shards[0].File);
        var bytes = File.ReadAllBytes(shard);
        bytes[10] ^= 1;
        File.WriteAllBytes(shard, bytes);
        var error = Assert.Throws<InvalidDataException>(() => TokenShardReader.ReadWindows(output).ToList());
        Assert.Contains("SHA-256", error.Message);
        File.WriteAllBytes(shard, bytes[..^4]);
        Assert.Contains("bytes but the manifest says", Assert.Throws<InvalidDataException>(() => TokenShardReader.ReadWindows(output).ToList()).Message);
    }
}
