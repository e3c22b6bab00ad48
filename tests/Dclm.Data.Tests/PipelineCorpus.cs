using Dclm.Data.Documents;
using Dclm.Data.IO;
using Dclm.Data.Quality;
using Dclm.Formats;

namespace Dclm.Data.Tests;

/// <summary>
/// A small multi-unit corpus built from the fixtures: the real HTML WARC plus 40 JSONL units of prose and
/// mail, where later units repeat earlier documents (exactly and with a changed first line) so dedup order
/// matters, and a trained quality model. Shared by the end-to-end, resume and sharding tests.
/// </summary>
public sealed class PipelineCorpus : IDisposable
{
    public PipelineCorpus()
    {
        Root = Fixtures.TemporaryDirectory();
        Input = Path.Combine(Root, "input");
        Directory.CreateDirectory(Path.Combine(Input, "web"));
        File.Copy(Fixtures.PathOf("web.warc.gz"), Path.Combine(Input, "web", "web.warc.gz"));
        var prose = Fixtures.Read("prose.jsonl.zst");
        var ham = Fixtures.Read("mail-ham.jsonl.zst").Take(120).Select(d => Mail(d, "email-ham")).ToList();
        var spam = Fixtures.Read("mail-spam.jsonl.zst").Take(80).Select(d => Mail(d, "email-spam")).ToList();
        var all = prose.Concat(ham).Concat(spam).ToList();
        var random = new Random(3);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        int perUnit = (int)Math.Ceiling(all.Count / 36.0);
        for (int u = 0; u < 40; u++)
        {
            var unit = u < 36 ? all.Skip(u * perUnit).Take(perUnit).ToList() : new List<Document>();
            if (u >= 30)
            {
                // planted duplicates of documents from earlier units
                for (int k = 0; k < 4; k++)
                {
                    var original = all[random.Next(Math.Min(all.Count, 20 * perUnit))];
                    var text = k % 2 == 0 ? original.Text : "Reposted from the archive.\n" + original.Text;
                    unit.Add(new Document($"{original.Id}-copy{u}-{k}", "", original.Source, text));
                }
            }
            var path = Path.Combine(Input, "jsonl", $"unit-{u:D3}.jsonl.zst");
            AtomicFile.Write(path, stream =>
            {
                using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), path);
                DocumentJsonl.WriteAll(compressed, unit);
            });
        }
        Units = 41;
        Documents = 9 + all.Count + 10 * 4;

        var model = ClassifierTraining.Train(prose.Select(d => d.Text).ToList(), spam.Select(d => d.Text).ToList(),
            new ClassifierTrainingOptions { FastText = ClassifierTests.Small with { Buckets = 1 << 14 }, HeldOutFraction = 0 }).Model;
        ModelPath = Path.Combine(Root, "quality.bin");
        AtomicFile.Write(ModelPath, stream => model.Save(stream));
        ConfigPath = Path.Combine(Root, "pipeline.yaml");
        File.WriteAllText(ConfigPath, $"""
            language:
              keep: [en]
            dedup:
              exact: true
            quality:
              model: {ModelPath}
              keep_top_fraction: 0.5
            mixing:
              enabled: true
              weights: {"{"}email-spam: 0.5, sotu: 2.0{"}"}
            output:
              documents_per_file: 40
            """);
    }

    private static Document Mail(Document d, string source) => new(d.Id, d.Url, source, Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text);

    public string Root { get; }
    public string Input { get; }
    public string ConfigPath { get; }
    public string ModelPath { get; }
    public int Units { get; }
    public int Documents { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
