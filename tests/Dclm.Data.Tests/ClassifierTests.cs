using Dclm.Data.Quality;

namespace Dclm.Data.Tests;

public class ClassifierTests
{
    private static List<string> Texts(string fixture) =>
        Fixtures.Read(fixture).Select(d => Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text).ToList();

    [Fact]
    public void SeparatesHeldOutHamFromSpam()
    {
        var ham = Texts("mail-ham.jsonl.zst");
        var spam = Texts("mail-spam.jsonl.zst");
        var result = ClassifierTraining.Train(ham, spam, new ClassifierTrainingOptions { Buckets = 1 << 16, Epochs = 10 });
        Console.WriteLine($"ham vs spam held-out accuracy {result.HeldOutAccuracy:P2} on {result.HeldOutExamples}");
        Assert.Equal(80, result.HeldOutExamples);
        Assert.True(result.HeldOutAccuracy >= 0.85, $"accuracy {result.HeldOutAccuracy:P2}");
    }

    [Fact]
    public void RanksProseAboveBoilerplate()
    {
        var prose = Fixtures.Read("prose.jsonl.zst").Select(d => d.Text).ToList();
        var spam = Texts("mail-spam.jsonl.zst");
        // 30 prose texts against 200 spam mails: repeat the prose so both classes weigh the same.
        var training = Enumerable.Repeat(prose.Where((_, i) => i % 2 == 0), 7).SelectMany(p => p).ToList();
        var model = ClassifierTraining.Train(training, spam, new ClassifierTrainingOptions { Buckets = 1 << 16, Epochs = 10, HeldOutFraction = 0 }).Model;
        var heldOutProse = prose.Where((_, i) => i % 2 == 1).ToList();
        string[] boilerplate =
        [
            "Home | About us | Contact | Privacy policy | Terms of use | Sitemap | Login | Register | Cart (0 items)",
            "Click here to subscribe! Best prices guaranteed. Buy now and save 50%. Free shipping on all orders over $50.",
            "Copyright 2024 All rights reserved. Powered by WordPress. Follow us on Facebook Twitter Instagram.",
            "Share this: Facebook Twitter Email Print Like Loading... Related posts Leave a reply Cancel reply",
        ];
        double worstProse = heldOutProse.Min(model.Score);
        double bestBoilerplate = boilerplate.Max(model.Score);
        double meanProse = heldOutProse.Average(model.Score);
        Assert.True(meanProse > boilerplate.Average(model.Score), $"mean prose {meanProse:F3}");
        int ordered = heldOutProse.Sum(p => boilerplate.Count(b => model.Score(p) > model.Score(b)));
        Assert.True(ordered >= 0.95 * heldOutProse.Count * boilerplate.Length, $"only {ordered} ordered pairs; worst prose {worstProse:F3}, best boilerplate {bestBoilerplate:F3}");
    }

    [Fact]
    public void SavedModelScoresIdentically()
    {
        var model = ClassifierTraining.Train(["good long prose about the sea and ships"], ["buy cheap pills now"], new ClassifierTrainingOptions { Buckets = 1024, HeldOutFraction = 0 }).Model;
        var memory = new MemoryStream();
        model.Save(memory);
        memory.Position = 0;
        var loaded = QualityClassifier.Load(memory, "model.bin");
        Assert.Equal(model.Score("the sea"), loaded.Score("the sea"), 12);
        Assert.Equal(model.Score("cheap pills"), loaded.Score("cheap pills"), 12);
    }

    [Fact]
    public void CorruptModelsAreRejected()
    {
        var model = new QualityClassifier(1024, 8, 1);
        var memory = new MemoryStream();
        model.Save(memory);
        var bytes = memory.ToArray();
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => QualityClassifier.Load(new MemoryStream(bytes[..30]), "m.bin")).Message);
        var lying = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(lying, 8);
        Assert.Contains("implausible", Assert.Throws<InvalidDataException>(() => QualityClassifier.Load(new MemoryStream(lying), "m.bin")).Message);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => QualityClassifier.Load(new MemoryStream("not a model at all"u8.ToArray()), "m.bin")).Message);
    }
}
