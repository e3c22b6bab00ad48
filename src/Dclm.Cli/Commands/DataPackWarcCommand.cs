using System.CommandLine;
using Dclm.Data.Warc;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data pack-warc`: packs a folder of pages or texts into a WARC file.</summary>
internal static class DataPackWarcCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Folder to pack", Required = true };
        var output = new Option<string>("--output") { Description = "WARC file (.warc or .warc.gz)", Required = true };
        var kind = new Option<string>("--kind") { Description = "html, json-text or json-email", DefaultValueFactory = _ => "html" };
        kind.AcceptOnlyFromAmong("html", "json-text", "json-email");
        var source = new Option<string>("--source") { Description = "Source name stored in each record", Required = true };
        var url = new Option<string>("--url-prefix") { Description = "Prefix for WARC-Target-URI", DefaultValueFactory = _ => "https://example.invalid" };
        var limit = new Option<int>("--limit") { Description = "Pack at most this many files", DefaultValueFactory = _ => int.MaxValue };
        var command = new Command("pack-warc", "Pack HTML or JSON text files into WARC records (gzip per record)") { input, output, kind, source, url, limit };
        command.SetAction(parse => DataCommand.Guard(() =>
        {
            var packKind = parse.GetValue(kind) switch { "json-text" => PackKind.JsonText, "json-email" => PackKind.JsonEmail, _ => PackKind.Html };
            int count = WarcPacker.Pack(parse.GetValue(input)!, parse.GetValue(output)!, packKind, parse.GetValue(source)!, parse.GetValue(url)!, parse.GetValue(limit));
            Console.WriteLine($"packed {count} records into {parse.GetValue(output)}");
        }));
        return command;
    }
}
