using System.Text;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using MimeKit;

namespace Dclm.Data.Bench;

/// <summary>
/// Our mail reader (<see cref="EmailMessage"/>) against MimeKit on the SpamAssassin mail the data tests use:
/// how many bodies the two read differently, then CPU time per pass, the two interleaved and alternating in order.
/// </summary>
internal static class MailParsing
{
    private const int MessagesPerPass = 10;

    public static int Run(string fixtures, int repeat)
    {
        var files = new[] { "mail-ham.jsonl.zst", "mail-spam.jsonl.zst" }.Select(f => Path.Combine(fixtures, f)).ToList();
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            Console.Error.WriteLine($"mail fixture not found: {missing}");
            return 1;
        }
        var texts = files.SelectMany(f => DocumentJsonl.ReadFile(f, "mail")).Select(d => d.Text).ToList();
        // MimeKit reads bytes, as the WARC record holds them; the encoding is done once, outside the timing.
        var raws = texts.Select(Encoding.UTF8.GetBytes).ToList();
        long bytes = raws.Sum(r => (long)r.Length);
        int textsDiffer = 0, kindsDiffer = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var ours = EmailMessage.ExtractBody(texts[i]);
            var theirs = MimeKitBody(raws[i]);
            if (ours.Text != theirs.Text) textsDiffer++;
            if (ours.IsHtml != theirs.IsHtml) kindsDiffer++;
        }
        Console.WriteLine($"mail: {texts.Count} messages, {bytes / 1e6:F2} MB; MimeKit's body differs from ours in {textsDiffer} (text) and {kindsDiffer} (html or not)");

        var oursSeconds = new List<double>();
        var mimeKitSeconds = new List<double>();
        for (int round = 0; round <= repeat; round++)
        {
            foreach (bool mimeKit in round % 2 == 0 ? new[] { false, true } : new[] { true, false })
            {
                double start = Machine.CpuSeconds();
                long characters = 0;
                for (int pass = 0; pass < MessagesPerPass; pass++)
                    for (int i = 0; i < texts.Count; i++)
                        characters += mimeKit ? MimeKitBody(raws[i]).Text.Length : EmailMessage.ExtractBody(texts[i]).Text.Length;
                double seconds = Machine.CpuSeconds() - start;
                if (round > 0) (mimeKit ? mimeKitSeconds : oursSeconds).Add(seconds); // round 0 warms both up
                GC.KeepAlive(characters);
            }
        }
        double megabytes = bytes * MessagesPerPass / 1e6;
        double oursMedian = Machine.Median(oursSeconds), mimeKitMedian = Machine.Median(mimeKitSeconds);
        Console.WriteLine($"CPU seconds for {MessagesPerPass} passes, median of {repeat}: ours {oursMedian:F3} ({megabytes / oursMedian:F0} MB/s), " +
                          $"MimeKit {mimeKitMedian:F3} ({megabytes / mimeKitMedian:F0} MB/s); MimeKit/ours {mimeKitMedian / oursMedian:F2}x");
        Console.WriteLine($"  ours    {string.Join(' ', oursSeconds.Select(s => s.ToString("F3")))}");
        Console.WriteLine($"  MimeKit {string.Join(' ', mimeKitSeconds.Select(s => s.ToString("F3")))}");
        return 0;
    }

    /// <summary>What <see cref="EmailMessage.ExtractBody"/> returns, read with MimeKit: subject, then the first non-empty text/plain part, else the first HTML one.</summary>
    private static (string Text, bool IsHtml) MimeKitBody(byte[] raw)
    {
        using var stream = new MemoryStream(raw, writable: false);
        var message = MimeMessage.Load(stream);
        string? plain = null, html = null;
        foreach (var part in message.BodyParts.OfType<TextPart>())
        {
            var text = part.Text ?? "";
            if (text.Length == 0) continue;
            if (!part.IsHtml) { plain = text; break; }
            html ??= text;
        }
        bool isHtml = plain is null && html is not null;
        var body = plain ?? html ?? "";
        var subject = message.Subject ?? "";
        if (subject.Length > 0) body = isHtml ? $"<h1>{System.Net.WebUtility.HtmlEncode(subject)}</h1>\n{body}" : subject + "\n\n" + body;
        return (body, isHtml);
    }
}
