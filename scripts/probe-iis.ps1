<#
.SYNOPSIS
  Settles on a real Windows Server with IIS the behaviours docs/windows-facts.md marks "assumed".

.DESCRIPTION
  Run it elevated on a server with IIS (and the CGI feature for the fastcgi-unregistered check; without Application
  Initialization, globalmodules-appinit is UNSETTLED). It creates its own
  uniquely named throwaway application pools, sites (bound to free local ports), FastCGI registration, folders
  (one linked into the site by a junction) and backup, all named diisprobe-<8 hex digits>, and removes them at
  the end, also after a failure. Some checks
  send HTTP requests to that site (static files, a vdir, an app below it), and some run Node (node on PATH;
  UNSETTLED without it) to see what an exclusive create answers for a file that is being deleted, and what
  pruning's rename does to a folder holding a hard link of a file that is open. It changes
  nothing else, except with -Disruptive, which restores a backup (appcmd says that "stops the server") and holds
  applicationHost.config open for a moment: run -Disruptive only on a throwaway machine or in a maintenance window.

  It prints one line per check, "PASS|FAIL|UNSETTLED <id>: saw <what>; action assumes <what>", and writes the
  same as JSON to -OutFile. PASS: what the server did is one of the forms the action accepts. FAIL: it is not,
  so the action (or a test double) must change. UNSETTLED: the check could not run here (and why). Messages are
  compared in English: on a server with another display language, FAIL lines may only mean a translated text.

  What each check runs and accepts is data, the JSON between the EXPECTATIONS markers below. The Linux test
  __tests__/probe-iis.test.ts reads that same JSON and applies it, with the rule of Test-Form below, to outputs
  recorded from the sources docs/windows-facts.md cites (jexusmanager's appcmd clone, Microsoft's pages, issue
  threads) and to the forms a wrong assumption would produce. That proves the expectations accept the forms they
  should and reject the others, and that each "assumed" fact has a check here. It does not run this script:
  there is no PowerShell on the Linux machines (Debian does not package it), so the commands, the quoting, the
  clean-up and Test-Form's .NET regex evaluation are only exercised when a Windows runner runs the script
  (.github/workflows/e2e-windows.yml does, first thing). Nor does the Linux test prove that a check observes what
  its "runs" says on a real server: that is only seen in the JSON a run writes (a check whose setup fails records
  UNSETTLED with the reason).

  Not probed here: what needs a Django app served through IIS. The e2e workflow deploys one at Default Web Site/app
  through real wfastcgi and checks there the SCRIPT_NAME split and case-insensitive app and vdir matching.
  HttpPlatformHandler is not installed on that runner, so its URL forwarding rests on the sources
  docs/windows-facts.md cites (rows hp-*).

.PARAMETER Disruptive
  Also run the checks that restore a backup and lock applicationHost.config.

.PARAMETER OutFile
  Where to write the JSON results.
#>
[CmdletBinding()]
param(
  [switch]$Disruptive,
  [string]$OutFile = (Join-Path (Get-Location) 'probe-iis.json'),
  [string]$Appcmd = (Join-Path $env:windir 'system32\inetsrv\appcmd.exe'),
  [string]$Icacls = (Join-Path $env:windir 'system32\icacls.exe'),
  [string]$RunnerDir = ''
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# ---- BEGIN EXPECTATIONS (plain JSON; __tests__/probe-iis.test.ts reads it) ----
$ExpectationsJson = @'
{
  "symlink-privilege": {
    "fact": "fs-file-symlink", "disruptive": false,
    "runs": "whoami /priv in the elevated shell that runs the probe (the runner's account when run as it)",
    "assumes": "an administrator holds SeCreateSymbolicLinkPrivilege, so shared-files can be linked",
    "accept": [ { "form": "held", "exit": [0], "stdout": "SeCreateSymbolicLinkPrivilege" } ]
  },
  "junction-served": {
    "fact": "fs-junction", "disruptive": false,
    "runs": "mklink /J <site root>\\diisprobe-media -> a folder outside the site, holding a file and a web.config like templates/media-web.config.hbs; GET /diisprobe-media/diisprobe.txt",
    "assumes": "IIS serves a content folder through a junction, with the target's web.config and ACL",
    "accept": [ { "form": "served", "stdout": "^status=200 type=text/plain body=diisprobe-media" } ]
  },
  "media-nosniff": {
    "fact": "md-custom-headers", "disruptive": false,
    "runs": "the same GET; the X-Content-Type-Options response header",
    "assumes": "customHeaders in the folder's <location path=\".\"> reach the response",
    "accept": [ { "form": "nosniff", "stdout": "^nosniff$" } ]
  },
  "media-denied-extension": {
    "fact": "md-request-filtering", "disruptive": false,
    "runs": "GET /diisprobe-media/evil.py and /diisprobe-media/web.config (both files exist)",
    "assumes": "fileExtensions allowed=false answers 404.7 and the hidden web.config 404.x; neither is served",
    "accept": [ { "form": "refused", "stdout": "^py status=404 .*; config status=404 " } ],
    "reject": [ { "form": "served", "stdout": "status=200" } ]
  },
  "media-lock-below": {
    "fact": "md-lock-below", "disruptive": false,
    "runs": "a web.config adding a FastCGI handler (the probe's cmd.exe registration) in /diisprobe-media/sub/; GET /diisprobe-media/sub/diisprobe.txt; whether IIS's error page names 500.19 or 0x80070021",
    "assumes": "the folder's <location path=\".\" overrideMode=\"Deny\"> makes the handler in the subfolder a 500.19; a plain 500 is the handler running (cmd.exe is no FastCGI server)",
    "accept": [ { "form": "locked", "stdout": "^status=500 config-error=True$" } ],
    "reject": [
      { "form": "handler accepted", "stdout": "^status=200 " },
      { "form": "the handler ran", "stdout": "config-error=False" }
    ]
  },
  "junction-delete": {
    "fact": "fs-link-delete", "disruptive": false,
    "runs": "[IO.Directory]::Delete(<junction>) then test the target's file",
    "assumes": "removing a junction leaves the target folder and its files",
    "accept": [ { "form": "target kept", "stdout": "^link-gone=True target-file=True$" } ]
  },
  "list-site-miss": {
    "fact": "ac-list-miss-id", "disruptive": false,
    "runs": "appcmd list site diisprobe-XXXXXXXX-nosuch",
    "assumes": "a missing site reads as not found in one of three forms",
    "accept": [
      { "form": "silent (jexusmanager)", "exit": [1], "stdout": "^\\s*$" },
      { "form": "cannot-find", "stdout": "Cannot find SITE object" },
      { "form": "empty appcmd", "exit": [0, 1], "stdout": "^\\s*(<\\?xml[^>]*\\?>\\s*)?<appcmd\\s*(/>|>\\s*</appcmd>)\\s*$" }
    ]
  },
  "list-apppool-miss": {
    "fact": "ac-list-miss-id", "disruptive": false,
    "runs": "appcmd list apppool diisprobe-XXXXXXXX-nosuch /config /xml",
    "assumes": "a missing pool reads as not found in one of three forms",
    "accept": [
      { "form": "silent (jexusmanager)", "exit": [1], "stdout": "^\\s*$" },
      { "form": "cannot-find", "stdout": "Cannot find APPPOOL object" },
      { "form": "empty appcmd", "exit": [0, 1], "stdout": "^\\s*(<\\?xml[^>]*\\?>\\s*)?<appcmd\\s*(/>|>\\s*</appcmd>)\\s*$" }
    ]
  },
  "list-vdir-miss": {
    "fact": "ac-list-miss-id", "disruptive": false,
    "runs": "appcmd list vdir \"diisprobe-XXXXXXXX-nosuch/\"",
    "assumes": "a missing vdir reads as not found in one of three forms",
    "accept": [
      { "form": "silent (jexusmanager)", "exit": [1], "stdout": "^\\s*$" },
      { "form": "cannot-find", "stdout": "Cannot find VDIR object" },
      { "form": "empty appcmd", "exit": [0, 1], "stdout": "^\\s*(<\\?xml[^>]*\\?>\\s*)?<appcmd\\s*(/>|>\\s*</appcmd>)\\s*$" }
    ]
  },
  "list-apps-site-miss": {
    "fact": "ac-list-miss-filter", "disruptive": false,
    "runs": "appcmd list apps /site.name:diisprobe-XXXXXXXX-nosuch",
    "assumes": "a filter that matches nothing prints nothing, exit 0 or 1",
    "accept": [
      { "form": "empty, exit 0 (jexusmanager)", "exit": [0], "stdout": "^\\s*$" },
      { "form": "empty, exit 1", "exit": [1], "stdout": "^\\s*$" }
    ]
  },
  "list-site-miss-config-xml": {
    "fact": "ac-list-miss-id", "disruptive": false,
    "runs": "appcmd list site diisprobe-XXXXXXXX-nosuch /config /xml",
    "assumes": "a missing site listed with /config /xml reads as not found in one of three forms",
    "accept": [
      { "form": "silent (jexusmanager)", "exit": [1], "stdout": "^\\s*$" },
      { "form": "cannot-find", "stdout": "Cannot find SITE object" },
      { "form": "empty appcmd", "exit": [0, 1], "stdout": "^\\s*(<\\?xml[^>]*\\?>\\s*)?<appcmd\\s*(/>|>\\s*</appcmd>)\\s*$" }
    ]
  },
  "list-apps-site": {
    "fact": "ac-list-site-apps", "disruptive": false,
    "runs": "appcmd list apps /site.name:diisprobe-XXXXXXXX-site",
    "assumes": "one 'APP \"S/path\" (applicationPool:P)' line per app, the root app as \"S/\"",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "^APP \"diisprobe-[0-9a-f]{8}-site/\" \\(applicationPool:diisprobe-[0-9a-f]{8}-pool\\)\\s*$" } ]
  },
  "list-app-case": {
    "fact": "ac-case", "disruptive": false,
    "runs": "appcmd list app \"DIISPROBE-XXXXXXXX-SITE/\"",
    "assumes": "app names compare case-insensitively",
    "accept": [ { "form": "found", "exit": [0], "stdout": "^APP \"diisprobe-[0-9a-f]{8}-site/\"" } ]
  },
  "app-path-case": {
    "fact": "ac-case", "disruptive": false,
    "runs": "appcmd add app /site.name:diisprobe-XXXXXXXX-site /path:/DiisProbeCase, then /path:/diisprobecase",
    "assumes": "app paths differing only in case are the same app: the second add is a duplicate",
    "accept": [
      { "form": "duplicate", "exit": [183], "stdout": "duplicate" },
      { "form": "another refusal", "exitNot": [0], "stdout": "ERROR \\(" }
    ],
    "reject": [ { "form": "added twice", "exit": [0] } ]
  },
  "app-path-trailing-dot": {
    "fact": "in-trailing-dot", "disruptive": false,
    "runs": "appcmd add app /site.name:diisprobe-XXXXXXXX-site /path:/diisprobedot. then list apps of the site",
    "assumes": "nothing (the action refuses such paths); recorded: refused, kept or dropped",
    "accept": [
      { "form": "refused", "stdout": "^add-exit=[1-9]\\d* " },
      { "form": "stored with the dot", "stdout": "^add-exit=0 apps=\\S*/diisprobedot\\.(,|$)" },
      { "form": "stored without the dot", "stdout": "^add-exit=0 apps=\\S*/diisprobedot(,|$)" }
    ]
  },
  "add-vdir-segments": {
    "fact": "ac-add-vdir", "disruptive": false,
    "runs": "appcmd add vdir /app.name:\"diisprobe-XXXXXXXX-site/\" /path:/assets/css /physicalPath:<folder>\\css",
    "assumes": "a vdir path of several segments is accepted: VDIR object \"S/assets/css\" added",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "^VDIR object \"diisprobe-[0-9a-f]{8}-site/assets/css\" added\\s*$" } ]
  },
  "vdir-static-served": {
    "fact": "st-vdir-match", "disruptive": false,
    "runs": "GET http://localhost:<port>/assets/css/diisprobe.css (a file only the vdir's folder holds)",
    "assumes": "200 text/css, served from the vdir's folder",
    "accept": [ { "form": "served", "stdout": "^status=200 type=text/css body=diisprobe-css" } ],
    "reject": [ { "form": "not found", "stdout": "^status=404 " } ]
  },
  "mime-default-woff2": {
    "fact": "st-mime-defaults", "disruptive": false,
    "runs": "GET http://localhost:<port>/assets/css/diisprobe.woff2 (no web.config in the folder)",
    "assumes": "either the server's map lacks .woff2 (404.3) or has it (200): the product's remove-then-add works with both",
    "accept": [
      { "form": "not in the default map", "stdout": "^status=404 " },
      { "form": "in the default map", "stdout": "^status=200 type=(font/woff2|application/font-woff2)" }
    ]
  },
  "mime-remove-add": {
    "fact": "st-mime-remove-add", "disruptive": false,
    "runs": "GET .../diisprobe.woff2 and .../diisprobe.css with a web.config holding <remove fileExtension> then <mimeMap> for .woff2 and .css",
    "assumes": "remove-then-add serves both with the mapped types whatever the default map holds; no 500.19",
    "accept": [ { "form": "served", "stdout": "^woff2 status=200 type=font/woff2 .*; css status=200 type=text/css" } ],
    "reject": [ { "form": "duplicate key", "stdout": "status=500 " } ]
  },
  "vdir-case": {
    "fact": "st-vdir-match", "disruptive": false,
    "runs": "GET http://localhost:<port>/ASSETS/CSS/diisprobe.css",
    "assumes": "vdir paths match URLs without regard to case",
    "accept": [ { "form": "served", "stdout": "^status=200 type=text/css body=diisprobe-css" } ],
    "reject": [ { "form": "not found", "stdout": "^status=404 " } ]
  },
  "delete-vdir": {
    "fact": "ac-delete-vdir", "disruptive": false,
    "runs": "appcmd delete vdir \"diisprobe-XXXXXXXX-site/assets/css\"",
    "assumes": "exit 0 (the action reads only the exit code); the double prints VDIR object \"V\" deleted",
    "accept": [
      { "form": "as the double", "exit": [0], "stdout": "^VDIR object \"diisprobe-[0-9a-f]{8}-site/assets/css\" deleted\\s*$" },
      { "form": "exit 0, another text", "exit": [0] }
    ]
  },
  "delete-app-location": {
    "fact": "ac-delete-app-location", "disruptive": false,
    "runs": "appcmd add app /path:/diisprobeloc; set config \"S/diisprobeloc\" -section:system.webServer/defaultDocument /+files.[...] /commit:apphost; delete app \"S/diisprobeloc\"; look for <location path=\"S/diisprobeloc\"> in applicationHost.config",
    "assumes": "the delete succeeds; the location is kept (as the rollback assumes) or removed with the app (harmless)",
    "accept": [
      { "form": "location kept", "stdout": "^delete-exit=0 location-kept=True$" },
      { "form": "location removed with the app", "stdout": "^delete-exit=0 location-kept=False$" }
    ]
  },
  "pre-switch-site": {
    "fact": "ac-add-site-defaults", "disruptive": false,
    "runs": "appcmd add site /name:diisprobe-XXXXXXXX-ps /bindings:http/127.0.0.1:<free port>: /physicalPath:<empty> /applicationDefaults.applicationPool:<the probe's pool>; add app /path:/diisprobeps; set config at the app's location; GET a file through that port (the same pool now serves two sites); delete site; look for the site and for its <location>",
    "assumes": "the site is added with its root app in the pool, WAS starts it on creation (state Started, GET 200), delete site removes it with its apps; its location entry is kept (as for delete app) or removed (harmless)",
    "accept": [
      { "form": "started, served, deleted, location kept", "stdout": "^add-exit=0 root-pool=True state=Started get=200 delete-exit=0 site-gone=True location-kept=True$" },
      { "form": "started, served, deleted, location removed", "stdout": "^add-exit=0 root-pool=True state=Started get=200 delete-exit=0 site-gone=True location-kept=False$" }
    ],
    "reject": [
      { "form": "the nested pool option is refused", "stdout": "^add-exit=[1-9]" },
      { "form": "not started on creation", "stdout": "state=(?!Started)" }
    ]
  },
  "pool-name-length": {
    "fact": "in-pool-length", "disruptive": false,
    "runs": "appcmd add apppool with names of 64, 65 and 300 characters (each deleted again)",
    "assumes": "64 characters are accepted (the action never uses more); 65 and 300 are recorded",
    "accept": [ { "form": "64 accepted", "stdout": "^len64-exit=0 " } ],
    "reject": [ { "form": "64 refused", "stdout": "^len64-exit=[1-9]" } ]
  },
  "appsettings-dup-key": {
    "fact": "in-appsettings-remove", "disruptive": false,
    "runs": "site root web.config adds appSettings key DIISPROBE_K; app /diisprobedup's web.config adds it again, without then with <remove key> first; GET a static file of the app each time",
    "assumes": "with <remove key> first the app answers 200; without it, 500.19 (0x800700b7) or 200 (then <remove> is only defensive)",
    "accept": [
      { "form": "duplicate refused (remove needed)", "stdout": "^without-remove=500 dup-text=True with-remove=200$" },
      { "form": "duplicate not checked here (remove only defensive)", "stdout": "^without-remove=200 dup-text=False with-remove=200$" }
    ],
    "reject": [ { "form": "refused even with remove", "stdout": "with-remove=(?!200$)" } ]
  },
  "lock-delete-pending": {
    "fact": "lk-delete-pending", "disruptive": false,
    "runs": "open a file with FILE_SHARE_DELETE, delete it, then node -e: fs.writeFileSync(file, 'x', { flag: 'wx' }) while the handle is open",
    "assumes": "the create fails with EPERM, EACCES or EBUSY (taken for now, retried) or succeeds (the name was freed at once); EEXIST refutes",
    "accept": [
      { "form": "taken for now", "stdout": "^code=(EPERM|EACCES|EBUSY)$" },
      { "form": "name freed at once", "stdout": "^code=created$" }
    ],
    "reject": [ { "form": "EEXIST", "stdout": "^code=EEXIST$" } ]
  },
  "backup-folder": {
    "fact": "ac-backup-folder", "disruptive": false,
    "runs": "appcmd add backup <tag>-bkfolder; whether backup\\<name>\\applicationHost.config exists beside appcmd.exe; that folder removed by hand; appcmd list backups",
    "assumes": "a backup is the folder of its name in the backup folder beside appcmd.exe, and appcmd lists no backup whose folder is gone (pruning deletes our old backups' folders); a backup kept elsewhere is accepted (pruning then runs appcmd delete backup)",
    "accept": [
      { "form": "the folder is the backup", "stdout": "^apphost=True removed=True listed-after=False$" },
      { "form": "kept elsewhere (appcmd delete backup is used)", "stdout": "^apphost=False " }
    ],
    "reject": [ { "form": "still listed once its folder is gone", "stdout": "^apphost=True removed=True listed-after=True$" } ]
  },
  "prune-rename-open-link": {
    "fact": "fs-delete-open", "disruptive": false,
    "runs": "old\\base.css hard-linked to live\\base.css; live\\base.css held open with FileShare ReadWrite+Delete (rwd), then Read (r), then served by IIS twice (iis); each time node -e: fs.renameSync(old, .pruning-...), then fs.rmSync of it (recursive), as src/discard.ts prunes",
    "assumes": "an old release sharing a file that is open through the live release is renamed out of the way (its delete may wait for a later run); refused without delete sharing is accepted (kept whole, with a warning); refused while IIS serves the file means old releases are never pruned",
    "accept": [ { "form": "renamed while held", "stdout": "^rwd rename=ok rm=\\S+; r rename=\\S+ rm=\\S+; iis rename=ok rm=\\S+$" } ],
    "reject": [
      { "form": "refused with delete sharing", "stdout": "^rwd rename=(?!ok )" },
      { "form": "refused while IIS serves the file", "stdout": "; iis rename=(?!ok )" }
    ]
  },
  "net-start-started": {
    "fact": "nt-net-messages", "disruptive": false,
    "runs": "net start W3SVC (running: IIS serves the probe's site)",
    "assumes": "a non-zero exit saying the service has already been started (NET HELPMSG 2182)",
    "accept": [ { "form": "as the double", "stdout": "^exit=[1-9]\\d* said=.*(already been started|HELPMSG 2182)" } ],
    "reject": [ { "form": "started again", "stdout": "^exit=0 " } ]
  },
  "net-stop-stopped": {
    "fact": "nt-net-messages", "disruptive": false,
    "runs": "net stop <a service that is stopped and not disabled> (stops nothing)",
    "assumes": "a non-zero exit saying the service is not started (NET HELPMSG 3521)",
    "accept": [ { "form": "as the double", "stdout": "^exit=[1-9]\\d* said=.*(service is not started|HELPMSG 3521)" } ]
  },
  "net-missing-service": {
    "fact": "nt-net-messages", "disruptive": false,
    "runs": "net stop diisprobe-XXXXXXXX-nosuch",
    "assumes": "a non-zero exit and neither the not-started nor the already-started text, so the action fails the step",
    "accept": [ { "form": "as the double", "stdout": "^exit=2 said=.*(service name is invalid|HELPMSG 2185)" } ],
    "reject": [ { "form": "read as stopped", "stdout": "service is not started|HELPMSG 3521|exit=0 " } ]
  },
  "recycle-statuses": {
    "fact": "vf-starting", "disruptive": false,
    "runs": "appcmd recycle apppool diisprobe-XXXXXXXX-pool, then GET /index.html of the probe's site every 100 ms for 5 s (repeats collapsed; 0: no answer)",
    "assumes": "a pool that is starting answers 502, 503 or 504 or not at all (verify waits those out), never a 500, and then 200",
    "accept": [ { "form": "starting answers, then 200", "stdout": "^recycle-exit=0 statuses=((0|502|503|504|200),)*200$" } ],
    "reject": [ { "form": "a 500 while starting", "stdout": "statuses=(\\d+,)*500(,|$)" } ]
  },
  "lock-recreated-generation": {
    "fact": "lk-generation", "disruptive": false,
    "runs": "node -e: write a file, stat it (bigint), unlink it, write the same text again at once, stat again",
    "assumes": "the re-created file differs in ino or mtimeNs, so a lock another run took in between is not taken for the one read",
    "accept": [ { "form": "differs", "stdout": "ino-differs=true|mtime-differs=true" } ],
    "reject": [ { "form": "same identity", "stdout": "^ino-differs=false mtime-differs=false$" } ]
  },
  "list-case": {
    "fact": "ac-case", "disruptive": false,
    "runs": "appcmd LIST APPPOOL DIISPROBE-XXXXXXXX-POOL",
    "assumes": "object types and names compare case-insensitively",
    "accept": [ { "form": "found", "exit": [0], "stdout": "APPPOOL \"diisprobe-[0-9a-f]{8}-pool\"" } ]
  },
  "list-xml-shape": {
    "fact": "ac-xml-shape", "disruptive": false,
    "runs": "appcmd list apppool diisprobe-XXXXXXXX-pool /xml",
    "assumes": "<APPPOOL> carries APPPOOL.NAME, PipelineMode, RuntimeVersion and state inside <appcmd>",
    "accept": [ { "form": "documented attributes", "exit": [0], "stdout": "<appcmd>\\s*<APPPOOL(?=[^>]*\\sAPPPOOL\\.NAME=\"diisprobe-[0-9a-f]{8}-pool\")(?=[^>]*\\sPipelineMode=\")(?=[^>]*\\sRuntimeVersion=\")(?=[^>]*\\sstate=\")[^>]*>" } ]
  },
  "list-apppool-config-xml": {
    "fact": "ac-config-xml", "disruptive": false,
    "runs": "appcmd list apppool diisprobe-XXXXXXXX-pool /config /xml",
    "assumes": "the raw <add> element is nested inside <APPPOOL>",
    "accept": [ { "form": "nested", "exit": [0], "stdout": "<APPPOOL\\b[^>]*>\\s*<add\\b[^>]*\\sname=\"diisprobe-[0-9a-f]{8}-pool\"" } ]
  },
  "list-config-xml-shape": {
    "fact": "ac-list-config-xml", "disruptive": false,
    "runs": "appcmd list config \"diisprobe-XXXXXXXX-site/\" -section:system.webServer/defaultDocument /xml",
    "assumes": "<CONFIG CONFIG.SECTION=...> around an element named after the section with / turned into -",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "<CONFIG\\b[^>]*CONFIG\\.SECTION=\"system\\.webServer/defaultDocument\"[^>]*>\\s*<system\\.webServer-defaultDocument\\b" } ]
  },
  "list-config-merged": {
    "fact": "ac-list-config-merged", "disruptive": false,
    "runs": "appcmd list config \"diisprobe-XXXXXXXX-site/\" -section:system.webServer/defaultDocument (after a location entry and a web.config entry)",
    "assumes": "the listing merges applicationHost.config location entries with web.config",
    "accept": [ { "form": "merged", "exit": [0], "stdout": "^(?=[\\s\\S]*diisprobe-apphost\\.html)(?=[\\s\\S]*diisprobe-webconfig\\.html)" } ],
    "reject": [ { "form": "applicationHost.config only", "exit": [0], "stdout": "^(?![\\s\\S]*diisprobe-webconfig\\.html)[\\s\\S]*diisprobe-apphost\\.html" } ]
  },
  "dup-apppool": {
    "fact": "ac-dup-object", "disruptive": false,
    "runs": "appcmd add apppool /name:diisprobe-XXXXXXXX-pool (a second time)",
    "assumes": "exit 183, the duplicate message on stdout, stderr empty",
    "accept": [ { "form": "documented", "exit": [183], "stdout": "ERROR \\( message:Failed to add duplicate collection element \"diisprobe-[0-9a-f]{8}-pool\"\\. \\)", "stderr": "^\\s*$" } ]
  },
  "dup-fastcgi": {
    "fact": "ac-dup-entry", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /+[fullPath='...',arguments='...'] /commit:apphost (a second time)",
    "assumes": "exit 183 and the combined-key duplicate message",
    "accept": [ { "form": "documented", "exit": [183], "stdout": "Cannot add duplicate collection entry of type 'application' with combined key attributes 'fullPath, arguments' respectively set to" } ]
  },
  "remove-missing-element": {
    "fact": "ac-missing-element", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /-[fullPath='C:\\diisprobe-nosuch.exe',arguments='x'] /commit:apphost",
    "assumes": "exit 4312 and 'Cannot find requested collection element.'",
    "accept": [ { "form": "documented", "exit": [4312], "stdout": "ERROR \\( message:Cannot find requested collection element\\. \\)" } ]
  },
  "malformed-indexer": {
    "fact": "ac-malformed", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /+[fullPath /commit:apphost",
    "assumes": "a non-zero exit and an ERROR block on stdout (the double: 87, 'Malformed collection indexer')",
    "accept": [
      { "form": "as the double", "exit": [87], "stdout": "Malformed collection indexer" },
      { "form": "another ERROR", "exitNot": [0], "stdout": "ERROR \\(" }
    ]
  },
  "unknown-attribute": {
    "fact": "ac-malformed", "disruptive": false,
    "runs": "appcmd set apppool diisprobe-XXXXXXXX-pool /diisprobeNoSuchAttribute:1",
    "assumes": "a non-zero exit and an ERROR block on stdout (the double: 87, 'Unknown attribute')",
    "accept": [
      { "form": "as the double", "exit": [87], "stdout": "Unknown attribute \"diisprobeNoSuchAttribute\"" },
      { "form": "another ERROR", "exitNot": [0], "stdout": "ERROR \\(" }
    ]
  },
  "indexer-quote": {
    "fact": "ac-indexer-quote", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /+[...].environmentVariables.[name='DIISPROBE_Q',value='a''b'], then list config /xml",
    "assumes": "nothing (the action refuses ' in values); recorded so the refusal can be relaxed",
    "accept": [
      { "form": "doubled quote stored as one", "stdout": "^set-exit=0 value=a'b$" },
      { "form": "stored as typed", "stdout": "^set-exit=0 value=a''b$" },
      { "form": "refused", "stdout": "^set-exit=[1-9]\\d* " }
    ]
  },
  "value-percent-u": {
    "fact": "ac-value-verbatim", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /+[...].environmentVariables.[name='DIISPROBE_P',value='x%u0041y'], then list config /xml",
    "assumes": "the value is stored as typed",
    "accept": [ { "form": "verbatim", "stdout": "^set-exit=0 value=x%u0041y$" } ],
    "reject": [ { "form": "decoded", "stdout": "^set-exit=0 value=xAy$" } ]
  },
  "value-tab": {
    "fact": "ac-value-verbatim", "disruptive": false,
    "runs": "appcmd set config ... value='x<TAB>y', then list config /xml (a tab is shown as \\t)",
    "assumes": "the value is stored as typed",
    "accept": [ { "form": "verbatim", "stdout": "^set-exit=0 value=x\\\\ty$" } ],
    "reject": [ { "form": "tab became a space", "stdout": "^set-exit=0 value=x y$" } ]
  },
  "value-quote": {
    "fact": "ac-value-verbatim", "disruptive": false,
    "runs": "appcmd set config ... value='x\"y' (argv quoted as Node's child_process quotes it), then list config /xml",
    "assumes": "the value is stored as typed",
    "accept": [ { "form": "verbatim", "stdout": "^set-exit=0 value=x\"y$" } ]
  },
  "env-empty-value": {
    "fact": "ac-env-empty", "disruptive": false,
    "runs": "appcmd set config -section:system.webServer/fastCgi /+[...].environmentVariables.[name='DIISPROBE_E',value='']",
    "assumes": "exit 13 'The data is invalid.'",
    "accept": [ { "form": "as the double", "exit": [13], "stdout": "The data is invalid" } ],
    "reject": [ { "form": "stored", "exit": [0] } ]
  },
  "add-apppool-empty-runtime": {
    "fact": "ac-pool-runtime", "disruptive": false,
    "runs": "appcmd add apppool /name:diisprobe-XXXXXXXX-pool2 /managedRuntimeVersion: then list apppool /config /xml",
    "assumes": "an empty /managedRuntimeVersion: stores managedRuntimeVersion=\"\" (no managed code)",
    "accept": [ { "form": "stored empty", "stdout": "^add-exit=0 runtime=\"\"$" } ],
    "reject": [ { "form": "default kept", "stdout": "^add-exit=0 runtime=\"v\\d" } ]
  },
  "anon-empty-username": {
    "fact": "ac-anon-empty", "disruptive": false,
    "runs": "appcmd set config \"diisprobe-XXXXXXXX-site\" -section:system.webServer/security/authentication/anonymousAuthentication /userName: /commit:apphost, then list config /xml",
    "assumes": "userName=\"\" is stored (the pool identity serves anonymous requests)",
    "accept": [ { "form": "stored empty", "stdout": "^set-exit=0 userName=\"\"$" } ],
    "reject": [ { "form": "empty ignored", "stdout": "^set-exit=0 userName=\"IUSR\"$" } ]
  },
  "pool-password-encrypted": {
    "fact": "ac-pool-password", "disruptive": false,
    "runs": "appcmd add apppool /name:diisprobe-XXXXXXXX-pool3 /autoStart:false /processModel.identityType:SpecificUser /processModel.userName:.\\diisprobe /processModel.password:<random>, then read applicationHost.config and list apppool /config /xml",
    "assumes": "the password is stored as [enc:IISWASOnlyRsaProvider:...:enc], never in clear; what a /config read shows (clear, encrypted or nothing) is not settled",
    "accept": [
      { "form": "encrypted, read shows clear", "stdout": "^add-exit=0 stored=\\[enc:IISWASOnlyRsaProvider:[^:]*:enc\\] clear-in-file=no read=clear$" },
      { "form": "encrypted, read shows encrypted", "stdout": "^add-exit=0 stored=\\[enc:IISWASOnlyRsaProvider:[^:]*:enc\\] clear-in-file=no read=(enc|absent)$" }
    ],
    "reject": [ { "form": "clear in the file", "stdout": "clear-in-file=yes" } ]
  },
  "windows-auth-location": {
    "fact": "ac-windows-auth", "disruptive": false,
    "runs": "appcmd set config \"diisprobe-XXXXXXXX-site\" -section:system.webServer/security/authentication/windowsAuthentication /enabled:true /useAppPoolCredentials:true /commit:apphost",
    "assumes": "the section and useAppPoolCredentials exist (the Windows Authentication role service is installed) and a location write answers like other sections",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "Applied configuration changes" } ]
  },
  "auth-sections-locked": {
    "fact": "ac-auth-locked", "disruptive": false,
    "runs": "read the windowsAuthentication, anonymousAuthentication and serverRuntime declarations of applicationHost.config",
    "assumes": "all three are declared overrideModeDefault=\"Deny\" (web.config may not set them)",
    "accept": [ { "form": "all denied", "stdout": "^anonymousAuthentication=Deny windowsAuthentication=Deny serverRuntime=Deny$" } ]
  },
  "server-runtime-override": {
    "fact": "ac-auth-user-override", "disruptive": false,
    "runs": "appcmd set config \"diisprobe-XXXXXXXX-site\" -section:system.webServer/serverRuntime /authenticatedUserOverride:UseWorkerProcessUser /commit:apphost",
    "assumes": "serverRuntime can be set at a site's location with /commit:apphost",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "Applied configuration changes" } ]
  },
  "attr-remove": {
    "fact": "ac-attr-remove", "disruptive": false,
    "runs": "appcmd set config \"diisprobe-XXXXXXXX-site\" -section:system.webServer/security/authentication/anonymousAuthentication --password /commit:apphost",
    "assumes": "--attr removes the attribute and succeeds",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "Applied configuration changes" } ]
  },
  "unlock-message": {
    "fact": "ac-unlock", "disruptive": false,
    "runs": "appcmd unlock config \"diisprobe-XXXXXXXX-site/\" -section:system.webServer/handlers (twice; the second is shown)",
    "assumes": "exit 0 and 'Unlocked section ... at configuration path ...', also when repeated",
    "accept": [ { "form": "as the double", "exit": [0], "stdout": "^Unlocked section \"system\\.webServer/handlers\" at configuration path \"MACHINE/WEBROOT/APPHOST/diisprobe-[0-9a-f]{8}-site/?\"\\.\\s*$" } ]
  },
  "handlers-locked": {
    "fact": "ac-handlers-locked", "disruptive": false,
    "runs": "read the <section name=\"handlers\"> declaration of applicationHost.config",
    "assumes": "overrideModeDefault=\"Deny\"",
    "accept": [ { "form": "locked", "stdout": "overrideModeDefault=\"Deny\"" } ]
  },
  "stop-message": {
    "fact": "ac-state-msg", "disruptive": false,
    "runs": "appcmd stop site diisprobe-XXXXXXXX-site",
    "assumes": "exit 0 and '\"S\" successfully stopped', with or without a period",
    "accept": [ { "form": "documented", "exit": [0], "stdout": "^\"diisprobe-[0-9a-f]{8}-site\" successfully stopped\\.?\\s*$" } ]
  },
  "stop-stopped-site": {
    "fact": "ac-start-stopped", "disruptive": false,
    "runs": "appcmd stop site diisprobe-XXXXXXXX-site (a second time)",
    "assumes": "exit 1062 with an ERROR block",
    "accept": [ { "form": "as the double", "exit": [1062], "stdout": "ERROR \\(" } ]
  },
  "start-started-site": {
    "fact": "ac-start-stopped", "disruptive": false,
    "runs": "appcmd start site diisprobe-XXXXXXXX-site (a second time)",
    "assumes": "exit 1056 with an ERROR block",
    "accept": [ { "form": "as the double", "exit": [1056], "stdout": "ERROR \\(" } ]
  },
  "recycle-stopped-pool": {
    "fact": "ac-start-stopped", "disruptive": false,
    "runs": "appcmd stop apppool diisprobe-XXXXXXXX-pool2, then appcmd recycle apppool diisprobe-XXXXXXXX-pool2",
    "assumes": "exit 1062 with an ERROR block saying the pool has not been started (the SSO recycle skips such a pool)",
    "accept": [ { "form": "as the double", "exit": [1062], "stdout": "ERROR \\([\\s\\S]*(has not been started|80070426)" } ]
  },
  "delete-message": {
    "fact": "ac-deleted", "disruptive": false,
    "runs": "appcmd delete apppool diisprobe-XXXXXXXX-pool2",
    "assumes": "APPPOOL object \"P\" deleted",
    "accept": [ { "form": "as the double", "exit": [0], "stdout": "^APPPOOL object \"diisprobe-[0-9a-f]{8}-pool2\" deleted\\s*$" } ]
  },
  "fastcgi-unregistered": {
    "fact": "st-script-processor", "disruptive": false,
    "runs": "GET http://localhost:<port>/x.diisprobe, mapped by web.config to a scriptProcessor no fastCgi application has",
    "assumes": "500 with '<handler> scriptProcessor could not be found in <fastCGI> application configuration'",
    "accept": [ { "form": "as the stand-in", "stdout": "^status=500 [\\s\\S]*scriptProcessor could not be found in (<|&lt;)fastCGI(>|&gt;) application configuration" } ]
  },
  "icacls-missing-path": {
    "fact": "ic-missing", "disruptive": false,
    "runs": "icacls <folder>\\nosuch",
    "assumes": "exit 2, the message on stderr",
    "accept": [ { "form": "as the double", "exit": [2], "stderr": "The system cannot find the file specified" } ]
  },
  "icacls-grant-output": {
    "fact": "ic-output", "disruptive": false,
    "runs": "icacls <folder>\\sub /grant *S-1-5-32-545:(OI)(CI)RX",
    "assumes": "'processed file: <path>' then the summary line, exit 0",
    "accept": [ { "form": "as the double", "exit": [0], "stdout": "processed file: \\S[^\\r\\n]*\\r?\\nSuccessfully processed 1 files; Failed processing 0 files" } ]
  },
  "icacls-bad-perm": {
    "fact": "ic-bad-perm", "disruptive": false,
    "runs": "icacls <folder>\\sub /grant *S-1-5-32-545:(ZZ)",
    "assumes": "exit 87, 'Invalid parameter' on stderr",
    "accept": [ { "form": "as the double", "exit": [87], "stderr": "Invalid parameter" } ]
  },
  "icacls-list-format": {
    "fact": "ic-list", "disruptive": false,
    "runs": "icacls <folder>\\sub (after the grant above)",
    "assumes": "'<path> PRINCIPAL:(flags)(rights)' lines, the explicit grant first, then the summary",
    "accept": [ { "form": "as the double", "exit": [0], "stdout": "^\\S[^\\r\\n]*\\sBUILTIN\\\\Users:\\(OI\\)\\(CI\\)\\(RX\\)[\\s\\S]*\\(I\\)[\\s\\S]*Successfully processed 1 files; Failed processing 0 files" } ]
  },
  "runner-node24": {
    "fact": "rn-node24", "disruptive": false,
    "runs": "Runner.Listener.exe --version of the runner running this job (or -RunnerDir)",
    "assumes": "actions/runner 2.327.1 or later (node24 actions)",
    "accept": [ { "form": "new enough", "stdout": "atLeast2\\.327\\.1=True" } ],
    "reject": [ { "form": "too old", "stdout": "atLeast2\\.327\\.1=False" } ]
  },
  "commit-locked": {
    "fact": "ac-commit-locked", "disruptive": true,
    "runs": "hold applicationHost.config open without sharing, then appcmd set apppool diisprobe-XXXXXXXX-pool /autoStart:true",
    "assumes": "exit 32 or the 'being used by another process' message",
    "accept": [
      { "form": "as the double", "exit": [32], "stdout": "being used by another process" },
      { "form": "message only", "exitNot": [0], "stdout": "being used by another process" }
    ]
  },
  "restore-services": {
    "fact": "ac-restore-stops", "disruptive": true,
    "runs": "appcmd add backup diisprobe-XXXXXXXX-backup; appcmd restore backup diisprobe-XXXXXXXX-backup; W3SVC and WAS state before -> 30 s after (and right after)",
    "assumes": "the restore succeeds and W3SVC and WAS run again within 30 s by themselves",
    "accept": [ { "form": "services back", "stdout": "^restore-exit=0 W3SVC=\\w+->Running WAS=\\w+->Running " } ],
    "reject": [ { "form": "left stopped", "stdout": "^restore-exit=\\d+ W3SVC=\\w+->(?!Running )\\w+|WAS=\\w+->(?!Running )\\w+" } ]
  },
  "restore-workers": {
    "fact": "ac-restore-stops", "disruptive": true,
    "runs": "appcmd list wps before and after the restore above",
    "assumes": "nothing either way: after fix the rollback recycles the pool whether workers survive or not",
    "accept": [
      { "form": "workers kept (recycle needed)", "stdout": "kept=[1-9]" },
      { "form": "workers replaced", "stdout": "kept=0 gone=[1-9]" }
    ]
  },
  "sc-query-running": {
    "fact": "dr-sc-query", "disruptive": false,
    "runs": "sc.exe query W3SVC",
    "assumes": "a 'STATE : 4  RUNNING' line for a running service",
    "accept": [ { "form": "state line", "exit": [0], "stdout": "(^|\\n)\\s*STATE\\s*:\\s*4\\s+RUNNING" } ]
  },
  "sc-query-missing": {
    "fact": "dr-sc-query", "disruptive": false,
    "runs": "sc.exe query diisprobe-XXXXXXXX-nosuch",
    "assumes": "exit 1060 (or its message) for a service that is not installed",
    "accept": [
      { "form": "exit 1060", "exit": [1060] },
      { "form": "message only", "exitNot": [0], "stdout": "1060|does not exist as an installed service" }
    ]
  },
  "globalmodules-fastcgi": {
    "fact": "dr-global-modules", "disruptive": false,
    "runs": "appcmd list config -section:system.webServer/globalModules (the CGI feature installed)",
    "assumes": "an <add name=\"FastCgiModule\" ...> entry in the listing",
    "accept": [ { "form": "add element", "exit": [0], "stdout": "name\\s*=\\s*\"FastCgiModule\"" } ]
  },
  "fsutil-volumeinfo": {
    "fact": "dr-fsutil-volumeinfo", "disruptive": false,
    "runs": "fsutil fsinfo volumeinfo C:\\ (elevated)",
    "assumes": "a 'File System Name : NTFS' line",
    "accept": [ { "form": "as documented", "exit": [0], "stdout": "File System Name\\s*:\\s*NTFS" } ]
  },
  "globalmodules-appinit": {
    "fact": "ai-module", "disruptive": false,
    "runs": "appcmd list config -section:system.webServer/globalModules (Application Initialization installed: Install-WindowsFeature Web-AppInit)",
    "assumes": "an <add name=\"ApplicationInitializationModule\" ...> entry, or another name with image warmup.dll",
    "accept": [
      { "form": "ApplicationInitializationModule", "exit": [0], "stdout": "name\\s*=\\s*\"ApplicationInitializationModule\"" },
      { "form": "AppWarmupModule", "exit": [0], "stdout": "name\\s*=\\s*\"AppWarmupModule\"" },
      { "form": "image warmup.dll", "exit": [0], "stdout": "[\\\\/\"]warmup\\.dll\"" }
    ]
  },
  "startmode-set": {
    "fact": "ai-start-mode", "disruptive": false,
    "runs": "appcmd set apppool /apppool.name:diisprobe-XXXXXXXX-pool /startMode:AlwaysRunning, then list apppool ... /config /xml",
    "assumes": "the pool's <add> element carries startMode=\"AlwaysRunning\"",
    "accept": [ { "form": "stored", "exit": [0], "stdout": "<add\\b[^>]*\\sstartMode=\"AlwaysRunning\"" } ]
  },
  "startmode-invalid": {
    "fact": "ai-start-mode", "disruptive": false,
    "runs": "appcmd set apppool /apppool.name:diisprobe-XXXXXXXX-pool /startMode:Always",
    "assumes": "refused with an error naming startMode",
    "accept": [ { "form": "refused", "exitNot": [0], "stdout": "startMode" } ]
  },
  "preload-set": {
    "fact": "ai-preload", "disruptive": false,
    "runs": "appcmd set app diisprobe-XXXXXXXX-site/ /preloadEnabled:true, then list site ... /config /xml",
    "assumes": "the <application path=\"/\"> element carries preloadEnabled=\"true\"",
    "accept": [ { "form": "stored", "exit": [0], "stdout": "<application\\b[^>]*\\spreloadEnabled=\"true\"" } ]
  },
  "runner-version-env": {
    "fact": "dr-runner-version", "disruptive": false,
    "runs": "RUNNER_VERSION as the runner gives it to a job step",
    "assumes": "the runner's version, e.g. 2.329.0",
    "accept": [ { "form": "set", "stdout": "^RUNNER_VERSION=\\d+\\.\\d+\\.\\d+\\s*$" } ]
  }
}
'@
# ---- END EXPECTATIONS ----

$Expectations = $ExpectationsJson | ConvertFrom-Json
$Tag = 'diisprobe-' + ([guid]::NewGuid().ToString('N').Substring(0, 8))
$Pool = "$Tag-pool"
$Pool2 = "$Tag-pool2"
$Pool3 = "$Tag-pool3"
$Site = "$Tag-site"
$PreSwitchSite = "$Tag-ps"
$Backup = "$Tag-backup"
# Under inetpub, whose folders the pool identities may read (a profile's temp folder is not readable by them).
$Base = Join-Path $env:SystemDrive 'inetpub'
if (-not (Test-Path $Base)) { $Base = [IO.Path]::GetTempPath() }
$Root = Join-Path $Base $Tag
# Outside $Root, as a shared folder is outside the release it is linked into.
$SharedMediaTarget = Join-Path $Base "$Tag-shared-media"
$FcgiPath = Join-Path $env:windir 'system32\cmd.exe'
$FcgiArgs = "/c rem $Tag"
$FcgiKey = "[fullPath='$FcgiPath',arguments='$FcgiArgs']"
$ApphostConfig = Join-Path $env:windir 'system32\inetsrv\config\applicationHost.config'
$Observed = @{}

# Quotes one argument as Node's child_process does on Windows (libuv's quote_cmd_arg, MSVC rules), so appcmd
# receives the same command line the action gives it.
function ConvertTo-CommandLineArg([string]$Arg) {
  if ($Arg -eq '') { return '""' }
  if ($Arg -notmatch '[ \t"]') { return $Arg }
  if ($Arg -notmatch '["\\]') { return '"' + $Arg + '"' }
  $sb = New-Object System.Text.StringBuilder
  [void]$sb.Append('"')
  $slashes = 0
  foreach ($ch in $Arg.ToCharArray()) {
    if ($ch -eq '\') { $slashes++; continue }
    if ($ch -eq '"') { [void]$sb.Append('\' * (2 * $slashes + 1)) } elseif ($slashes -gt 0) { [void]$sb.Append('\' * $slashes) }
    $slashes = 0
    [void]$sb.Append($ch)
  }
  [void]$sb.Append('\' * (2 * $slashes))
  [void]$sb.Append('"')
  return $sb.ToString()
}

function Invoke-Native([string]$Exe, [string[]]$Argv) {
  $psi = New-Object System.Diagnostics.ProcessStartInfo
  $psi.FileName = $Exe
  $psi.Arguments = (($Argv | ForEach-Object { ConvertTo-CommandLineArg $_ }) -join ' ')
  $psi.UseShellExecute = $false
  $psi.RedirectStandardOutput = $true
  $psi.RedirectStandardError = $true
  $psi.CreateNoWindow = $true
  $p = [System.Diagnostics.Process]::Start($psi)
  $out = $p.StandardOutput.ReadToEndAsync()
  $err = $p.StandardError.ReadToEndAsync()
  $p.WaitForExit()
  return @{ 'exit' = $p.ExitCode; 'stdout' = $out.Result; 'stderr' = $err.Result }
}
function Invoke-Appcmd([string[]]$Argv) { Invoke-Native $Appcmd $Argv }

function Save-Observation([string]$Id, $Result) { $Observed[$Id] = $Result }
function Save-Text([string]$Id, [string]$Text) { $Observed[$Id] = @{ 'exit' = $null; 'stdout' = $Text; 'stderr' = '' } }
function Save-Skip([string]$Id, [string]$Why) { $Observed[$Id] = @{ 'skipped' = $Why } }

# Runs one check's steps; an unexpected error makes the checks it had not recorded yet UNSETTLED, not the whole run.
function Invoke-Guarded([string[]]$Ids, [scriptblock]$Block) {
  try { & $Block } catch {
    foreach ($id in $Ids) { if (-not $Observed.ContainsKey($id)) { Save-Skip $id "error: $($_.Exception.Message)" } }
  }
}

# The verdict rule, mirrored by __tests__/probe-iis.test.ts: a form matches when the exit code is in `exit` (when
# given), not in `exitNot` (when given), and `stdout`/`stderr` (when given) match, case-insensitively.
function Test-Form($Form, $Obs) {
  $names = @($Form.PSObject.Properties | ForEach-Object { $_.Name })
  if ($names -contains 'exit') { if (@($Form.exit) -notcontains $Obs.exit) { return $false } }
  if ($names -contains 'exitNot') { if (@($Form.exitNot) -contains $Obs.exit) { return $false } }
  foreach ($stream in 'stdout', 'stderr') {
    if ($names -contains $stream) {
      $re = New-Object System.Text.RegularExpressions.Regex ($Form.$stream, [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)
      if (-not $re.IsMatch([string]$Obs[$stream])) { return $false }
    }
  }
  return $true
}

function Get-Verdict($Expect, $Obs) {
  if ($null -eq $Obs) { return @{ verdict = 'UNSETTLED'; form = 'not run' } }
  if ($Obs.ContainsKey('skipped')) { return @{ verdict = 'UNSETTLED'; form = $Obs.skipped } }
  $names = @($Expect.PSObject.Properties | ForEach-Object { $_.Name })
  if ($names -contains 'reject') { foreach ($f in @($Expect.reject)) { if (Test-Form $f $Obs) { return @{ verdict = 'FAIL'; form = $f.form } } } }
  foreach ($f in @($Expect.accept)) { if (Test-Form $f $Obs) { return @{ verdict = 'PASS'; form = $f.form } } }
  return @{ verdict = 'FAIL'; form = 'no accepted form' }
}

function Format-Seen($Obs) {
  if ($null -eq $Obs -or $Obs.ContainsKey('skipped')) { return 'nothing' }
  $text = (([string]$Obs.stdout).Trim() -replace "`t", '\t' -replace "`r?`n", ' | ')
  if ($text.Length -gt 220) { $text = $text.Substring(0, 220) + '...' }
  $err = ([string]$Obs.stderr).Trim() -replace "`r?`n", ' | '
  $s = ''
  if ($null -ne $Obs.exit) { $s = "exit $($Obs.exit), " }
  $s += "stdout '$text'"
  if ($err) { $s += ", stderr '$err'" }
  return $s
}

function Get-FreePort {
  $l = New-Object System.Net.Sockets.TcpListener ([System.Net.IPAddress]::Loopback, 0)
  $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
  return $port
}

# Reads one environment variable of the probe's FastCGI registration back from appcmd's /xml listing.
function Read-FcgiVariable([string]$Name) {
  $r = Invoke-Appcmd @('list', 'config', '-section:system.webServer/fastCgi', '/xml')
  $xml = [xml]$r.stdout
  foreach ($app in $xml.SelectNodes('//application')) {
    if ($app.GetAttribute('arguments') -ne $FcgiArgs) { continue }
    foreach ($v in $app.SelectNodes('environmentVariables/environmentVariable')) {
      if ($v.GetAttribute('name') -eq $Name) { return ($v.GetAttribute('value') -replace "`t", '\t') }
    }
  }
  return '(absent)'
}

function Test-Value([string]$Id, [string]$Name, [string]$Value) {
  $r = Invoke-Appcmd @('set', 'config', '-section:system.webServer/fastCgi', "/+$FcgiKey.environmentVariables.[name='$Name',value='$Value']", '/commit:apphost')
  $text = "set-exit=$($r.exit) "
  if ($r.exit -eq 0) { $text += 'value=' + (Read-FcgiVariable $Name) } else { $text += ([string]$r.stdout).Trim() }
  Save-Text $Id $text
}

# One GET: status, content type and body, also for an error status (Windows PowerShell 5.1 and PowerShell 7 throw
# different exceptions for one; both carry Response).
function Invoke-Http([string]$Url) {
  try {
    $resp = Invoke-WebRequest -UseBasicParsing -Uri $Url -TimeoutSec 30
    return @{ status = [int]$resp.StatusCode; type = [string]$resp.Headers['Content-Type']; body = [string]$resp.Content }
  } catch {
    $answer = $null
    if ($_.Exception.PSObject.Properties['Response']) { $answer = $_.Exception.Response }
    if ($null -eq $answer) { throw "no HTTP answer from ${Url}: $($_.Exception.Message)" }
    $body = ''
    if ($_.ErrorDetails) { $body = $_.ErrorDetails.Message }
    if (-not $body -and $answer -is [System.Net.WebResponse]) { $body = (New-Object System.IO.StreamReader ($answer.GetResponseStream())).ReadToEnd() }
    return @{ status = [int]$answer.StatusCode; type = ''; body = [string]$body }
  }
}

function Format-Http($Answer) {
  $type = ([string]$Answer.type -split ';')[0].Trim()
  $body = ([string]$Answer.body).Trim() -replace "`r?`n", ' '
  if ($body.Length -gt 120) { $body = $body.Substring(0, 120) }
  return "status=$($Answer.status) type=$type body=$body"
}

# A vdir of several segments (what a STATIC_URL such as /assets/css/ makes), served by IIS, matched without case.
function Test-Vdir([int]$Port) {
  $css = Join-Path $Root 'css'
  New-Item -ItemType Directory -Force -Path $css | Out-Null
  Set-Content -Path (Join-Path $css 'diisprobe.css') -Value 'diisprobe-css' -Encoding ascii
  $r = Invoke-Appcmd @('add', 'vdir', "/app.name:$Site/", '/path:/assets/css', "/physicalPath:$css")
  Save-Observation 'add-vdir-segments' $r
  if ($r.exit -ne 0) {
    foreach ($id in 'vdir-static-served', 'vdir-case', 'mime-default-woff2', 'mime-remove-add', 'delete-vdir') { Save-Skip $id 'the vdir could not be added' }
    return
  }
  Save-Text 'vdir-static-served' (Format-Http (Invoke-Http "http://localhost:$Port/assets/css/diisprobe.css"))
  Save-Text 'vdir-case' (Format-Http (Invoke-Http "http://localhost:$Port/ASSETS/CSS/diisprobe.css"))
  Set-Content -Path (Join-Path $css 'diisprobe.woff2') -Value 'diisprobe-woff2' -Encoding ascii
  Save-Text 'mime-default-woff2' (Format-Http (Invoke-Http "http://localhost:$Port/assets/css/diisprobe.woff2"))
  $mimeConfig = '<?xml version="1.0" encoding="utf-8"?><configuration><system.webServer><staticContent>' +
    '<remove fileExtension=".woff2" /><mimeMap fileExtension=".woff2" mimeType="font/woff2" />' +
    '<remove fileExtension=".css" /><mimeMap fileExtension=".css" mimeType="text/css" />' +
    '</staticContent></system.webServer></configuration>'
  Set-Content -Path (Join-Path $css 'web.config') -Value $mimeConfig -Encoding utf8
  # IIS picks up a changed web.config from its change notification, not at once.
  Start-Sleep -Seconds 1
  $woff2 = Format-Http (Invoke-Http "http://localhost:$Port/assets/css/diisprobe.woff2")
  $cssAnswer = Format-Http (Invoke-Http "http://localhost:$Port/assets/css/diisprobe.css")
  Save-Text 'mime-remove-add' "woff2 $woff2; css $cssAnswer"
  Remove-Item -Force (Join-Path $css 'web.config')
  Save-Observation 'delete-vdir' (Invoke-Appcmd @('delete', 'vdir', "$Site/assets/css"))
}

function Test-AppPaths {
  $first = Invoke-Appcmd @('add', 'app', "/site.name:$Site", '/path:/DiisProbeCase', "/physicalPath:$Root")
  # Only a first app that exists makes the second add a question of case.
  if ($first.exit -ne 0) { Save-Skip 'app-path-case' "the first app could not be added: $(([string]$first.stdout).Trim())" }
  else { Save-Observation 'app-path-case' (Invoke-Appcmd @('add', 'app', "/site.name:$Site", '/path:/diisprobecase', "/physicalPath:$Root")) }
  $r = Invoke-Appcmd @('add', 'app', "/site.name:$Site", '/path:/diisprobedot.', "/physicalPath:$Root")
  $apps = @([regex]::Matches([string](Invoke-Appcmd @('list', 'apps', "/site.name:$Site")).stdout, 'APP "([^"]*diisprobedot[^"]*)"') | ForEach-Object { $_.Groups[1].Value })
  $text = "add-exit=$($r.exit) "
  if ($r.exit -eq 0) { $text += 'apps=' + ($apps -join ',') } else { $text += ([string]$r.stdout).Trim() }
  Save-Text 'app-path-trailing-dot' $text
}

function Test-DeleteAppLocation {
  $app = "$Site/diisprobeloc"
  $r = Invoke-Appcmd @('add', 'app', "/site.name:$Site", '/path:/diisprobeloc', "/physicalPath:$Root")
  if ($r.exit -ne 0) { Save-Skip 'delete-app-location' "add app failed: $(([string]$r.stdout).Trim())"; return }
  $r = Invoke-Appcmd @('set', 'config', $app, '-section:system.webServer/defaultDocument', "/+files.[value='diisprobe-loc.html']", '/commit:apphost')
  if ($r.exit -ne 0) { Save-Skip 'delete-app-location' "set config at the app failed: $(([string]$r.stdout).Trim())"; return }
  $d = Invoke-Appcmd @('delete', 'app', $app)
  $kept = [IO.File]::ReadAllText($ApphostConfig).Contains("<location path=`"$app`"")
  Save-Text 'delete-app-location' "delete-exit=$($d.exit) location-kept=$kept"
}

# verify-before-switch's temporary site: a loopback site in an existing pool, its app served at once, then deleted.
function Test-PreSwitchSite {
  $psPort = Get-FreePort
  $empty = Join-Path $Root 'ps-root'; $dir = Join-Path $Root 'ps-app'
  New-Item -ItemType Directory -Force -Path $empty, $dir | Out-Null
  Set-Content -Path (Join-Path $dir 'ps.txt') -Value 'diisprobe-ps' -Encoding ascii
  $name = $PreSwitchSite
  $r = Invoke-Appcmd @('add', 'site', "/name:$name", "/bindings:http/127.0.0.1:${psPort}:", "/physicalPath:$empty", "/applicationDefaults.applicationPool:$Pool")
  if ($r.exit -ne 0) { Save-Text 'pre-switch-site' "add-exit=$($r.exit) $(([string]$r.stdout).Trim())"; return }
  $d = $null
  try {
    $rootPool = [bool](([string](Invoke-Appcmd @('list', 'app', "$name/")).stdout) -match [regex]::Escape("applicationPool:$Pool"))
    Invoke-Appcmd @('add', 'app', "/site.name:$name", '/path:/diisprobeps', "/physicalPath:$dir", "/applicationPool:$Pool") | Out-Null
    Invoke-Appcmd @('set', 'config', "$name/diisprobeps", '-section:system.webServer/defaultDocument', "/+files.[value='diisprobe-ps.html']", '/commit:apphost') | Out-Null
    Start-Sleep -Seconds 1
    $state = if ((([string](Invoke-Appcmd @('list', 'site', $name)).stdout)) -match 'state:(\w+)') { $Matches[1] } else { 'unknown' }
    $get = Invoke-Http "http://127.0.0.1:$psPort/diisprobeps/ps.txt"
    $d = Invoke-Appcmd @('delete', 'site', $name)
  } finally {
    # Also after an error above; Remove-ProbeObjects clears the location entry delete site may leave.
    if ($null -eq $d) { Invoke-Appcmd @('delete', 'site', $name) | Out-Null }
  }
  $text = [IO.File]::ReadAllText($ApphostConfig)
  $gone = -not $text.Contains("<site name=`"$name`"")
  $kept = $text.Contains("<location path=`"$name/diisprobeps`"")
  Save-Text 'pre-switch-site' "add-exit=0 root-pool=$rootPool state=$state get=$($get.status) delete-exit=$($d.exit) site-gone=$gone location-kept=$kept"
}

function Test-PoolNameLength {
  $text = ''
  foreach ($len in 64, 65, 300) {
    $name = "$Tag-" + ('p' * ($len - $Tag.Length - 1))
    $r = Invoke-Appcmd @('add', 'apppool', "/name:$name")
    if ($r.exit -eq 0) { Invoke-Appcmd @('delete', 'apppool', $name) | Out-Null }
    $text += "len$len-exit=$($r.exit) "
  }
  Save-Text 'pool-name-length' $text.Trim()
}

# What Node's exclusive create (the lock's) answers for a name whose file is deleted but still open elsewhere.
function Test-DeletePending {
  $node = Get-Command node -ErrorAction SilentlyContinue | Select-Object -First 1
  if (-not $node) { Save-Skip 'lock-delete-pending' 'node is not on PATH'; return }
  $file = Join-Path $Root 'diisprobe.lock'
  Set-Content -Path $file -Value 'held' -Encoding ascii
  $held = [IO.File]::Open($file, [IO.FileMode]::Open, [IO.FileAccess]::Read, ([IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete))
  try {
    [IO.File]::Delete($file)
    $js = "const fs = require('fs'); try { fs.writeFileSync(process.argv[1], 'x', { flag: 'wx' }); console.log('code=created') } catch (e) { console.log('code=' + e.code) }"
    $r = Invoke-Native $node.Path @('-e', $js, $file)
    Save-Text 'lock-delete-pending' ([string]$r.stdout).Trim()
  } finally { $held.Dispose() }
}

# Where appcmd keeps a backup, and whether it still lists one whose folder was deleted by hand (what pruning does).
function Test-BackupFolder {
  $name = "$Tag-bkfolder"
  $r = Invoke-Appcmd @('add', 'backup', $name)
  if ($r.exit -ne 0) { Save-Skip 'backup-folder' "add backup failed: exit $($r.exit) $(([string]$r.stdout).Trim())"; return }
  $folder = Join-Path (Join-Path (Split-Path -Parent $Appcmd) 'backup') $name
  $apphost = Test-Path (Join-Path $folder 'applicationHost.config')
  $removed = $false
  if ($apphost) {
    Remove-Item -Recurse -Force $folder
    $removed = -not (Test-Path $folder)
  }
  $listed = ([string](Invoke-Appcmd @('list', 'backups')).stdout).Contains("BACKUP `"$name`"")
  Save-Text 'backup-folder' "apphost=$apphost removed=$removed listed-after=$listed"
}

# What pruning (src/discard.ts, through Node as the action runs it) does to an old release's folder while the file
# it shares by hard link with the live release is held open through the live release's name: by a handle that
# shares delete (rwd), by one that does not (r), and by IIS itself right after serving the file (iis), whose
# sharing no source states. Whether IIS still holds the file then is not seen: iis rename=ok may mean no handle.
function Test-PruneRenameOpenLink([int]$Port) {
  $node = Get-Command node -ErrorAction SilentlyContinue | Select-Object -First 1
  if (-not $node) { Save-Skip 'prune-rename-open-link' 'node is not on PATH'; return }
  $js = "const fs = require('fs'); const [old, trash] = process.argv.slice(1); let rename = 'ok', rm = 'skipped'; try { fs.renameSync(old, trash) } catch (e) { rename = e.code } if (rename === 'ok') { try { fs.rmSync(trash, { recursive: true }); rm = 'ok' } catch (e) { rm = e.code } } console.log('rename=' + rename + ' rm=' + rm)"
  $seen = @()
  foreach ($how in 'rwd', 'r', 'iis') {
    $live = Join-Path $Root "diisprobe-live-$how"
    $old = Join-Path $Root "diisprobe-old-$how"
    New-Item -ItemType Directory -Force -Path $live, $old | Out-Null
    $file = Join-Path $live 'base.css'
    Set-Content -Path $file -Value 'diisprobe-css' -Encoding ascii
    New-Item -ItemType HardLink -Path (Join-Path $old 'base.css') -Target $file | Out-Null
    $held = $null
    if ($how -eq 'iis') {
      foreach ($i in 1, 2) {
        $answer = Invoke-Http "http://localhost:$Port/diisprobe-live-iis/base.css"
        if ($answer.status -ne 200) { Save-Skip 'prune-rename-open-link' "IIS did not serve the linked file: $(Format-Http $answer) (seen before: $($seen -join '; '))"; return }
      }
    } else {
      $share = [IO.FileShare]::Read
      if ($how -eq 'rwd') { $share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete }
      $held = [IO.File]::Open($file, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share)
    }
    try {
      $r = Invoke-Native $node.Path @('-e', $js, $old, (Join-Path $Root ".pruning-pid0-diisprobe-old-$how"))
      if ([string]$r.stdout -notmatch '^rename=') { Save-Skip 'prune-rename-open-link' "node failed ($how): exit $($r.exit) $(([string]$r.stderr).Trim())"; return }
      $seen += "$how $(([string]$r.stdout).Trim())"
    } finally { if ($held) { $held.Dispose() } }
  }
  Save-Text 'prune-rename-open-link' ($seen -join '; ')
}

# Whether a file re-created under the same name with the same text looks new to stat (the lock's generation).
function Test-RecreatedGeneration {
  $node = Get-Command node -ErrorAction SilentlyContinue | Select-Object -First 1
  if (-not $node) { Save-Skip 'lock-recreated-generation' 'node is not on PATH'; return }
  $js = "const fs = require('fs'); const f = process.argv[1]; const st = () => fs.statSync(f, { bigint: true }); fs.writeFileSync(f, 'x'); const a = st(); fs.unlinkSync(f); fs.writeFileSync(f, 'x'); const b = st(); fs.unlinkSync(f); console.log('ino-differs=' + (a.ino !== b.ino) + ' mtime-differs=' + (a.mtimeNs !== b.mtimeNs))"
  $r = Invoke-Native $node.Path @('-e', $js, (Join-Path $Root 'diisprobe-gen.lock'))
  Save-Text 'lock-recreated-generation' ([string]$r.stdout).Trim()
}

# An app below the site root whose web.config adds an appSettings key the root's web.config already added.
function Test-AppSettingsDuplicate([int]$Port) {
  $dir = Join-Path $Root 'dup'
  New-Item -ItemType Directory -Force -Path $dir | Out-Null
  Set-Content -Path (Join-Path $dir 'index.html') -Value 'diisprobe-dup' -Encoding ascii
  $rootConfig = Join-Path $Root 'web.config'
  $xml = [xml](Get-Content -Raw $rootConfig)
  $settings = $xml.CreateElement('appSettings')
  $add = $xml.CreateElement('add'); $add.SetAttribute('key', 'DIISPROBE_K'); $add.SetAttribute('value', 'root')
  [void]$settings.AppendChild($add)
  [void]$xml.DocumentElement.PrependChild($settings)
  $xml.Save($rootConfig)
  $r = Invoke-Appcmd @('add', 'app', "/site.name:$Site", '/path:/diisprobedup', "/physicalPath:$dir")
  if ($r.exit -ne 0) { Save-Skip 'appsettings-dup-key' "add app failed: $(([string]$r.stdout).Trim())"; return }
  $childConfig = Join-Path $dir 'web.config'
  $url = "http://localhost:$Port/diisprobedup/index.html"
  Set-Content -Path $childConfig -Encoding ascii -Value '<?xml version="1.0" encoding="UTF-8"?><configuration><appSettings><add key="DIISPROBE_K" value="app" /></appSettings></configuration>'
  $without = Invoke-Http $url
  Set-Content -Path $childConfig -Encoding ascii -Value '<?xml version="1.0" encoding="UTF-8"?><configuration><appSettings><remove key="DIISPROBE_K" /><add key="DIISPROBE_K" value="app" /></appSettings></configuration>'
  Start-Sleep -Seconds 1
  $with = Invoke-Http $url
  $dupText = [bool]($without.body -match '0x800700b7|duplicate collection entry|has already been added')
  Save-Text 'appsettings-dup-key' "without-remove=$($without.status) dup-text=$dupText with-remove=$($with.status)"
}

# net.exe's answers to a start or stop that has nothing to do (the Shibboleth restart accepts those).
function Test-Net {
  $net = Join-Path $env:windir 'system32\net.exe'
  $said = { param($r) "exit=$($r.exit) said=" + (("$($r.stdout) $($r.stderr)").Trim() -replace '\s+', ' ') }
  # Only while W3SVC runs, so the start has nothing to do.
  if ((Get-Service W3SVC).Status -eq 'Running') { Save-Text 'net-start-started' (& $said (Invoke-Native $net @('start', 'W3SVC'))) }
  else { Save-Skip 'net-start-started' 'W3SVC is not running' }
  Save-Text 'net-missing-service' (& $said (Invoke-Native $net @('stop', "$Tag-nosuch")))
  # PowerShell 7 reports services it may not query as errors, which -ErrorAction Stop would make fatal.
  $stopped = Get-Service -ErrorAction SilentlyContinue | Where-Object { $_.Status -eq 'Stopped' -and $_.StartType -ne 'Disabled' } | Select-Object -First 1
  if (-not $stopped) { Save-Skip 'net-stop-stopped' 'no stopped service found'; return }
  Save-Text 'net-stop-stopped' (& $said (Invoke-Native $net @('stop', $stopped.Name)))
}

# What a request sees while the pool restarts: verify waits out 502-504 but stops early on a 500 that repeats.
function Test-RecycleStatuses([int]$Port) {
  # A query string keeps HTTP.sys from answering from its kernel cache, which would never see the restart.
  $url = "http://localhost:$Port/index.html?diisprobe=recycle"
  Invoke-Http $url | Out-Null
  $r = Invoke-Appcmd @('recycle', 'apppool', "/apppool.name:$Pool")
  $seen = New-Object System.Collections.ArrayList
  $deadline = (Get-Date).AddSeconds(5)
  while ((Get-Date) -lt $deadline) {
    $status = 0
    try { $status = (Invoke-Http $url).status } catch { $status = 0 }
    if ($seen.Count -eq 0 -or $seen[$seen.Count - 1] -ne $status) { [void]$seen.Add($status) }
    Start-Sleep -Milliseconds 100
  }
  Save-Text 'recycle-statuses' "recycle-exit=$($r.exit) statuses=$($seen -join ',')"
}

# A shared uploads folder as the action links it: a junction in the site's content to a folder outside it, with the
# web.config templates/media-web.config.hbs renders (the parts the checks read). Needs handlers unlocked for the site.
function Test-SharedMedia([int]$Port) {
  $target = $SharedMediaTarget
  $link = Join-Path $Root 'diisprobe-media'
  New-Item -ItemType Directory -Force -Path (Join-Path $target 'sub') | Out-Null
  Set-Content -Path (Join-Path $target 'diisprobe.txt') -Value 'diisprobe-media' -Encoding ascii -NoNewline
  Set-Content -Path (Join-Path $target 'evil.py') -Value 'print(1)' -Encoding ascii
  Set-Content -Path (Join-Path $target 'sub\diisprobe.txt') -Value 'diisprobe-sub' -Encoding ascii
  Set-Content -Path (Join-Path $target 'web.config') -Encoding ascii -Value @(
    '<?xml version="1.0" encoding="utf-8"?><configuration><location path="." overrideMode="Deny"><system.webServer>',
    '<handlers accessPolicy="Read"><clear /><add name="StaticFile" path="*" verb="GET,HEAD" modules="StaticFileModule" resourceType="File" requireAccess="Read" /></handlers>',
    '<security><requestFiltering><fileExtensions allowUnlisted="true"><remove fileExtension=".py" /><add fileExtension=".py" allowed="false" />',
    '<remove fileExtension=".config" /><add fileExtension=".config" allowed="false" /></fileExtensions>',
    '<hiddenSegments><remove segment="web.config" /><add segment="web.config" /></hiddenSegments></requestFiltering></security>',
    '<httpProtocol><customHeaders><remove name="X-Content-Type-Options" /><add name="X-Content-Type-Options" value="nosniff" /></customHeaders></httpProtocol>',
    '</system.webServer></location></configuration>'
  )
  Set-Content -Path (Join-Path $target 'sub\web.config') -Encoding ascii -Value (
    '<?xml version="1.0" encoding="utf-8"?><configuration><system.webServer><handlers>' +
    "<add name=`"diisprobe-upload`" path=`"*`" verb=`"*`" modules=`"FastCgiModule`" scriptProcessor=`"$FcgiPath|/c rem $Tag`" resourceType=`"Unspecified`" />" +
    '</handlers></system.webServer></configuration>')
  $made = Invoke-Native (Join-Path $env:windir 'system32\cmd.exe') @('/c', 'mklink', '/J', $link, $target)
  if ($made.exit -ne 0 -or -not (Test-Path $link)) {
    $why = "mklink /J failed: exit $($made.exit) $(([string]$made.stdout + [string]$made.stderr).Trim())"
    foreach ($id in 'junction-served', 'media-nosniff', 'media-denied-extension', 'media-lock-below', 'junction-delete') { Save-Skip $id $why }
    return
  }
  try {
    Save-Text 'junction-served' (Format-Http (Invoke-Http "http://localhost:$Port/diisprobe-media/diisprobe.txt"))
    try {
      $resp = Invoke-WebRequest -UseBasicParsing -Uri "http://localhost:$Port/diisprobe-media/diisprobe.txt" -TimeoutSec 30
      Save-Text 'media-nosniff' ([string]$resp.Headers['X-Content-Type-Options'])
    } catch { Save-Skip 'media-nosniff' "no answer: $($_.Exception.Message)" }
    $py = Format-Http (Invoke-Http "http://localhost:$Port/diisprobe-media/evil.py")
    $config = Format-Http (Invoke-Http "http://localhost:$Port/diisprobe-media/web.config")
    Save-Text 'media-denied-extension' "py $py; config $config"
    # Only the status and whether the page names the config error: the handler, had it run, answers 500 too.
    $below = Invoke-Http "http://localhost:$Port/diisprobe-media/sub/diisprobe.txt"
    Save-Text 'media-lock-below' "status=$($below.status) config-error=$([bool]([string]$below.body -match '500\.19|0x80070021'))"
  } finally {
    # The target is outside $Root: Remove-ProbeObjects deletes it too, should this finally stop half-way. A delete
    # that fails is what junction-delete records (link-gone=False), not an error that hides the one before it.
    try { [IO.Directory]::Delete($link) } catch { Write-Verbose "junction delete: $($_.Exception.Message)" }
    Save-Text 'junction-delete' "link-gone=$(-not (Test-Path $link)) target-file=$(Test-Path (Join-Path $target 'diisprobe.txt'))"
    Remove-Item -Recurse -Force $target
  }
}

function Invoke-Checks {
  New-Item -ItemType Directory -Force -Path (Join-Path $Root 'sub') | Out-Null
  Set-Content -Path (Join-Path $Root 'index.html') -Value 'diisprobe' -Encoding ascii
  Set-Content -Path (Join-Path $Root 'web.config') -Encoding ascii -Value @(
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<configuration><system.webServer><defaultDocument><files><add value="diisprobe-webconfig.html" /></files></defaultDocument></system.webServer></configuration>'
  )
  $port = Get-FreePort
  $setup = @(
    @('add', 'apppool', "/name:$Pool"),
    @('add', 'site', "/name:$Site", "/bindings:http/*:${port}:", "/physicalPath:$Root"),
    @('set', 'app', "$Site/", "/applicationPool:$Pool"),
    @('set', 'config', '-section:system.webServer/fastCgi', "/+$FcgiKey", '/commit:apphost')
  )
  foreach ($argv in $setup) {
    $r = Invoke-Appcmd $argv
    if ($r.exit -ne 0) { throw "setup failed: appcmd $($argv -join ' '): exit $($r.exit) $($r.stdout)" }
  }

  Save-Observation 'list-apps-site' (Invoke-Appcmd @('list', 'apps', "/site.name:$Site"))
  Save-Observation 'list-app-case' (Invoke-Appcmd @('list', 'app', "$Site/".ToUpperInvariant()))
  Save-Observation 'list-site-miss-config-xml' (Invoke-Appcmd @('list', 'site', "$Tag-nosuch", '/config', '/xml'))
  Invoke-Guarded @('add-vdir-segments', 'vdir-static-served', 'vdir-case', 'mime-default-woff2', 'mime-remove-add', 'delete-vdir') { Test-Vdir $port }
  Invoke-Guarded @('recycle-statuses') { Test-RecycleStatuses $port }
  Invoke-Guarded @('app-path-case', 'app-path-trailing-dot') { Test-AppPaths }
  Invoke-Guarded @('delete-app-location') { Test-DeleteAppLocation }
  Invoke-Guarded @('pool-name-length') { Test-PoolNameLength }
  Invoke-Guarded @('lock-delete-pending') { Test-DeletePending }
  Invoke-Guarded @('lock-recreated-generation') { Test-RecreatedGeneration }
  Invoke-Guarded @('prune-rename-open-link') { Test-PruneRenameOpenLink $port }
  Invoke-Guarded @('backup-folder') { Test-BackupFolder }
  Invoke-Guarded @('net-start-started', 'net-stop-stopped', 'net-missing-service') { Test-Net }

  Save-Observation 'list-site-miss' (Invoke-Appcmd @('list', 'site', "$Tag-nosuch"))
  Save-Observation 'list-apppool-miss' (Invoke-Appcmd @('list', 'apppool', "$Tag-nosuch", '/config', '/xml'))
  Save-Observation 'list-vdir-miss' (Invoke-Appcmd @('list', 'vdir', "$Tag-nosuch/"))
  Save-Observation 'list-apps-site-miss' (Invoke-Appcmd @('list', 'apps', "/site.name:$Tag-nosuch"))
  Save-Observation 'list-case' (Invoke-Appcmd @('LIST', 'APPPOOL', $Pool.ToUpperInvariant()))
  Save-Observation 'list-xml-shape' (Invoke-Appcmd @('list', 'apppool', $Pool, '/xml'))
  Save-Observation 'list-apppool-config-xml' (Invoke-Appcmd @('list', 'apppool', $Pool, '/config', '/xml'))
  Save-Observation 'list-config-xml-shape' (Invoke-Appcmd @('list', 'config', "$Site/", '-section:system.webServer/defaultDocument', '/xml'))
  $r = Invoke-Appcmd @('set', 'config', "$Site/", '-section:system.webServer/defaultDocument', "/+files.[value='diisprobe-apphost.html']", '/commit:apphost')
  if ($r.exit -eq 0) { Save-Observation 'list-config-merged' (Invoke-Appcmd @('list', 'config', "$Site/", '-section:system.webServer/defaultDocument')) }
  else { Save-Skip 'list-config-merged' "could not add the location entry: exit $($r.exit) $($r.stdout.Trim())" }

  Save-Observation 'dup-apppool' (Invoke-Appcmd @('add', 'apppool', "/name:$Pool"))
  Save-Observation 'dup-fastcgi' (Invoke-Appcmd @('set', 'config', '-section:system.webServer/fastCgi', "/+$FcgiKey", '/commit:apphost'))
  Save-Observation 'remove-missing-element' (Invoke-Appcmd @('set', 'config', '-section:system.webServer/fastCgi', "/-[fullPath='C:\diisprobe-nosuch.exe',arguments='x']", '/commit:apphost'))
  Save-Observation 'malformed-indexer' (Invoke-Appcmd @('set', 'config', '-section:system.webServer/fastCgi', '/+[fullPath', '/commit:apphost'))
  Save-Observation 'unknown-attribute' (Invoke-Appcmd @('set', 'apppool', $Pool, '/diisprobeNoSuchAttribute:1'))

  Invoke-Guarded @('indexer-quote') { Test-Value 'indexer-quote' 'DIISPROBE_Q' "a''b" }
  Invoke-Guarded @('value-percent-u') { Test-Value 'value-percent-u' 'DIISPROBE_P' 'x%u0041y' }
  Invoke-Guarded @('value-tab') { Test-Value 'value-tab' 'DIISPROBE_T' "x`ty" }
  Invoke-Guarded @('value-quote') { Test-Value 'value-quote' 'DIISPROBE_D' 'x"y' }
  Save-Observation 'env-empty-value' (Invoke-Appcmd @('set', 'config', '-section:system.webServer/fastCgi', "/+$FcgiKey.environmentVariables.[name='DIISPROBE_E',value='']", '/commit:apphost'))

  Invoke-Guarded @('add-apppool-empty-runtime') {
    $r = Invoke-Appcmd @('add', 'apppool', "/name:$Pool2", '/managedRuntimeVersion:')
    $runtime = '(absent)'
    if ($r.exit -eq 0) {
      $add = ([xml](Invoke-Appcmd @('list', 'apppool', $Pool2, '/config', '/xml')).stdout).SelectSingleNode('//add')
      if ($add -and $add.HasAttribute('managedRuntimeVersion')) { $runtime = '"' + $add.GetAttribute('managedRuntimeVersion') + '"' }
    }
    Save-Text 'add-apppool-empty-runtime' "add-exit=$($r.exit) runtime=$runtime"
  }

  $anon = 'system.webServer/security/authentication/anonymousAuthentication'
  Invoke-Guarded @('anon-empty-username') {
    $r = Invoke-Appcmd @('set', 'config', $Site, "-section:$anon", '/userName:', '/commit:apphost')
    $user = '(absent)'
    if ($r.exit -eq 0) {
      $node = ([xml](Invoke-Appcmd @('list', 'config', $Site, "-section:$anon", '/xml')).stdout).SelectSingleNode('//*[@userName]')
      if ($node) { $user = '"' + $node.GetAttribute('userName') + '"' }
    }
    Save-Text 'anon-empty-username' "set-exit=$($r.exit) userName=$user"
  }
  Save-Observation 'attr-remove' (Invoke-Appcmd @('set', 'config', $Site, "-section:$anon", '--password', '/commit:apphost'))

  Invoke-Guarded @('pool-password-encrypted') {
    $secret = 'P' + [guid]::NewGuid().ToString('N')
    $r = Invoke-Appcmd @('add', 'apppool', "/name:$Pool3", '/autoStart:false', '/processModel.identityType:SpecificUser', '/processModel.userName:.\diisprobe', "/processModel.password:$secret")
    $file = [IO.File]::ReadAllText($ApphostConfig)
    $stored = [regex]::Match($file, "name=""$Pool3""[\s\S]*?password=""([^""]*)""").Groups[1].Value
    $clear = if ($file.Contains($secret)) { 'yes' } else { 'no' }
    $read = (Invoke-Appcmd @('list', 'apppool', $Pool3, '/config', '/xml')).stdout
    $shown = if ($read.Contains($secret)) { 'clear' } elseif ($read -match '\[enc:') { 'enc' } else { 'absent' }
    Save-Text 'pool-password-encrypted' "add-exit=$($r.exit) stored=$stored clear-in-file=$clear read=$shown"
  }
  $winauth = 'system.webServer/security/authentication/windowsAuthentication'
  Save-Observation 'windows-auth-location' (Invoke-Appcmd @('set', 'config', $Site, "-section:$winauth", '/enabled:true', '/useAppPoolCredentials:true', '/commit:apphost'))
  Save-Observation 'server-runtime-override' (Invoke-Appcmd @('set', 'config', $Site, '-section:system.webServer/serverRuntime', '/authenticatedUserOverride:UseWorkerProcessUser', '/commit:apphost'))
  Invoke-Guarded @('auth-sections-locked') {
    $file = [IO.File]::ReadAllText($ApphostConfig)
    $modes = foreach ($name in @('anonymousAuthentication', 'windowsAuthentication', 'serverRuntime')) {
      $m = [regex]::Match($file, "<section name=""$name""[^>]*overrideModeDefault=""([^""]*)""")
      "$name=$(if ($m.Success) { $m.Groups[1].Value } else { '(absent)' })"
    }
    Save-Text 'auth-sections-locked' ($modes -join ' ')
  }

  Invoke-Appcmd @('unlock', 'config', "$Site/", '-section:system.webServer/handlers') | Out-Null
  Save-Observation 'unlock-message' (Invoke-Appcmd @('unlock', 'config', "$Site/", '-section:system.webServer/handlers'))
  Invoke-Guarded @('junction-served', 'media-nosniff', 'media-denied-extension', 'media-lock-below', 'junction-delete') { Test-SharedMedia $port }
  # Recorded with its exit code: the expectation requires exit 0 (Save-Text would record none, and never PASS).
  Save-Observation 'symlink-privilege' (Invoke-Native (Join-Path $env:windir 'system32\whoami.exe') @('/priv'))
  Invoke-Guarded @('handlers-locked') {
    $decl = [regex]::Match([IO.File]::ReadAllText($ApphostConfig), '<section name="handlers"[^>]*>')
    if ($decl.Success) { Save-Text 'handlers-locked' $decl.Value } else { Save-Skip 'handlers-locked' 'no handlers declaration found' }
  }

  # A handler mapped to a scriptProcessor no fastCgi application has (handlers were unlocked for the site above).
  Set-Content -Path (Join-Path $Root 'web.config') -Encoding ascii -Value @(
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<configuration><system.webServer><defaultDocument><files><add value="diisprobe-webconfig.html" /></files></defaultDocument>',
    "<handlers><add name=`"diisprobe`" path=`"*.diisprobe`" verb=`"*`" modules=`"FastCgiModule`" scriptProcessor=`"$FcgiPath|/c rem $Tag-unregistered`" resourceType=`"Unspecified`" /></handlers>",
    '</system.webServer></configuration>'
  )
  # Windows PowerShell 5.1 and PowerShell 7 throw different exceptions for a 500; both carry Response and the body.
  try {
    $resp = Invoke-WebRequest -UseBasicParsing -Uri "http://localhost:$port/x.diisprobe" -TimeoutSec 30
    Save-Text 'fastcgi-unregistered' "status=$($resp.StatusCode) $($resp.Content)"
  } catch {
    $answer = $null
    if ($_.Exception.PSObject.Properties['Response']) { $answer = $_.Exception.Response }
    if ($null -eq $answer) { Save-Skip 'fastcgi-unregistered' "no HTTP answer: $($_.Exception.Message)" }
    else {
      $body = ''
      if ($_.ErrorDetails) { $body = $_.ErrorDetails.Message }
      if (-not $body -and $answer -is [System.Net.WebResponse]) { $body = (New-Object System.IO.StreamReader ($answer.GetResponseStream())).ReadToEnd() }
      Save-Text 'fastcgi-unregistered' "status=$([int]$answer.StatusCode) $body"
    }
  }

  Invoke-Guarded @('appsettings-dup-key') { Test-AppSettingsDuplicate $port }
  Invoke-Guarded @('pre-switch-site') { Test-PreSwitchSite }

  Save-Observation 'stop-message' (Invoke-Appcmd @('stop', 'site', $Site))
  Save-Observation 'stop-stopped-site' (Invoke-Appcmd @('stop', 'site', $Site))
  Invoke-Appcmd @('start', 'site', $Site) | Out-Null
  Save-Observation 'start-started-site' (Invoke-Appcmd @('start', 'site', $Site))
  Invoke-Appcmd @('stop', 'apppool', $Pool2) | Out-Null
  Save-Observation 'recycle-stopped-pool' (Invoke-Appcmd @('recycle', 'apppool', $Pool2))
  Save-Observation 'delete-message' (Invoke-Appcmd @('delete', 'apppool', $Pool2))

  $sub = Join-Path $Root 'sub'
  Save-Observation 'icacls-missing-path' (Invoke-Native $Icacls @((Join-Path $Root 'nosuch')))
  Save-Observation 'icacls-grant-output' (Invoke-Native $Icacls @($sub, '/grant', '*S-1-5-32-545:(OI)(CI)RX'))
  Save-Observation 'icacls-bad-perm' (Invoke-Native $Icacls @($sub, '/grant', '*S-1-5-32-545:(ZZ)'))
  Save-Observation 'icacls-list-format' (Invoke-Native $Icacls @($sub))

  Invoke-Guarded @('runner-node24') { Test-Runner }
  Invoke-Guarded @('sc-query-running', 'sc-query-missing', 'globalmodules-fastcgi', 'fsutil-volumeinfo', 'runner-version-env') { Test-DoctorReads }
  Invoke-Guarded @('globalmodules-appinit', 'startmode-set', 'startmode-invalid', 'preload-set') { Test-WarmUp }

  $disruptiveIds = @('commit-locked', 'restore-services', 'restore-workers')
  if (-not $Disruptive) {
    foreach ($id in $disruptiveIds) { Save-Skip $id 'needs -Disruptive' }
    return
  }
  Invoke-Guarded @('commit-locked') { Test-CommitLocked }
  Invoke-Guarded @('restore-services', 'restore-workers') { Test-Restore $port }
}

function Test-Runner {
  $dir = $RunnerDir
  if (-not $dir) {
    $worker = Get-Process -Name 'Runner.Worker' -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($worker -and $worker.Path) { $dir = Split-Path -Parent $worker.Path }
  }
  $listener = if ($dir) { Join-Path $dir 'Runner.Listener.exe' } else { '' }
  if (-not $listener -or -not (Test-Path $listener)) { Save-Skip 'runner-node24' 'no GitHub Actions runner found (pass -RunnerDir <runner>\bin)'; return }
  $v = (Invoke-Native $listener @('--version')).stdout.Trim()
  $parsed = $null
  if (-not [version]::TryParse($v, [ref]$parsed)) { Save-Skip 'runner-node24' "unreadable runner version '$v'"; return }
  Save-Text 'runner-node24' "runner=$v atLeast2.327.1=$($parsed -ge [version]'2.327.1')"
}

# What mode: doctor reads (docs/doctor-and-history.md): each answer in the form the doctor's canned outputs assume.
function Test-DoctorReads {
  Save-Observation 'sc-query-running' (Invoke-Native 'sc.exe' @('query', 'W3SVC'))
  Save-Observation 'sc-query-missing' (Invoke-Native 'sc.exe' @('query', "$Tag-nosuch"))
  Save-Observation 'globalmodules-fastcgi' (Invoke-Appcmd @('list', 'config', '-section:system.webServer/globalModules'))
  Save-Observation 'fsutil-volumeinfo' (Invoke-Native 'fsutil' @('fsinfo', 'volumeinfo', 'C:\'))
  if ($env:GITHUB_ACTIONS -eq 'true') { Save-Text 'runner-version-env' "RUNNER_VERSION=$env:RUNNER_VERSION" }
  else { Save-Skip 'runner-version-env' 'not inside a GitHub Actions job' }
}

# Warm-up (docs/iis-apply.md, "Warm-up"): the module's entry, startMode on the pool, preloadEnabled on the app.
function Test-WarmUp {
  # Without the feature there is no module to find: the check settles nothing here.
  if (-not (Test-Path (Join-Path $env:windir 'system32\inetsrv\warmup.dll'))) {
    Save-Skip 'globalmodules-appinit' 'Application Initialization is not installed (Install-WindowsFeature Web-AppInit)'
  } else {
    Save-Observation 'globalmodules-appinit' (Invoke-Appcmd @('list', 'config', '-section:system.webServer/globalModules'))
  }
  Invoke-Appcmd @('set', 'apppool', "/apppool.name:$Pool", '/startMode:AlwaysRunning') | Out-Null
  Save-Observation 'startmode-set' (Invoke-Appcmd @('list', 'apppool', $Pool, '/config', '/xml'))
  Save-Observation 'startmode-invalid' (Invoke-Appcmd @('set', 'apppool', "/apppool.name:$Pool", '/startMode:Always'))
  Invoke-Appcmd @('set', 'app', "$Site/", '/preloadEnabled:true') | Out-Null
  Save-Observation 'preload-set' (Invoke-Appcmd @('list', 'site', $Site, '/config', '/xml'))
}

# Worker processes as "<pid>(<pool>)", from lines such as WP "3577" (apppool:DefaultAppPool).
function Get-WorkerPids {
  $r = Invoke-Appcmd @('list', 'wps')
  return @([regex]::Matches([string]$r.stdout, 'WP "(\d+)" \(apppool:([^)]*)\)') | ForEach-Object { "$($_.Groups[1].Value)($($_.Groups[2].Value))" })
}

function Test-CommitLocked {
  $stream = [IO.File]::Open($ApphostConfig, 'Open', 'Read', 'None')
  try { Save-Observation 'commit-locked' (Invoke-Appcmd @('set', 'apppool', $Pool, '/autoStart:true')) }
  finally { $stream.Dispose() }
}

function Test-Restore([int]$Port) {
  # A worker of the probe's own pool, so the restore has a running process to act on.
  try { Invoke-WebRequest -UseBasicParsing -Uri "http://localhost:$Port/index.html" -TimeoutSec 30 | Out-Null } catch { Write-Verbose $_ }
  $r = Invoke-Appcmd @('add', 'backup', $Backup)
  if ($r.exit -ne 0) { foreach ($id in 'restore-services', 'restore-workers') { Save-Skip $id "add backup failed: $($r.stdout.Trim())" }; return }
  # @(): a function's one-item array arrives as its item, whose .Count Set-StrictMode refuses.
  $before = @(Get-WorkerPids)
  $svcBefore = @{ W3SVC = (Get-Service W3SVC).Status; WAS = (Get-Service WAS).Status }
  $r = Invoke-Appcmd @('restore', 'backup', $Backup)
  $rightAfter = "W3SVC:$((Get-Service W3SVC).Status),WAS:$((Get-Service WAS).Status)"
  # What the services do by themselves within 30 seconds, without help.
  $deadline = (Get-Date).AddSeconds(30)
  do {
    Start-Sleep -Seconds 2
    $svcAfter = @{ W3SVC = (Get-Service W3SVC).Status; WAS = (Get-Service WAS).Status }
  } while (($svcAfter.W3SVC -ne 'Running' -or $svcAfter.WAS -ne 'Running') -and (Get-Date) -lt $deadline)
  $after = @(Get-WorkerPids)
  Save-Text 'restore-services' "restore-exit=$($r.exit) W3SVC=$($svcBefore.W3SVC)->$($svcAfter.W3SVC) WAS=$($svcBefore.WAS)->$($svcAfter.WAS) right-after=$rightAfter"
  # Undo what the restore did to the services: start again what ran before it.
  foreach ($name in 'WAS', 'W3SVC') {
    if ($svcBefore[$name] -eq 'Running' -and $svcAfter[$name] -ne 'Running') { Start-Service $name }
  }
  if ($before.Count -eq 0) { Save-Skip 'restore-workers' 'no worker process was running before the restore' }
  else {
    $kept = @($before | Where-Object { $after -contains $_ }).Count
    Save-Text 'restore-workers' "workers before=$($before -join ',') after=$($after -join ',') kept=$kept gone=$($before.Count - $kept)"
  }
}

function Remove-ProbeObjects {
  $anon = 'system.webServer/security/authentication/anonymousAuthentication'
  # Location entries first, while the site still exists; every step may fail harmlessly (nothing to remove).
  $steps = @(
    @('clear', 'config', "$Site/", '-section:system.webServer/defaultDocument', '/delete:true', '/commit:apphost'),
    @('clear', 'config', $Site, "-section:$anon", '/delete:true', '/commit:apphost'),
    @('clear', 'config', $Site, '-section:system.webServer/security/authentication/windowsAuthentication', '/delete:true', '/commit:apphost'),
    @('clear', 'config', $Site, '-section:system.webServer/serverRuntime', '/delete:true', '/commit:apphost'),
    @('lock', 'config', "$Site/", '-section:system.webServer/handlers'),
    @('clear', 'config', "$Site/", '-section:system.webServer/handlers', '/delete:true', '/commit:apphost'),
    @('clear', 'config', "$Site/diisprobeloc", '-section:system.webServer/defaultDocument', '/delete:true', '/commit:apphost'),
    @('clear', 'config', "$PreSwitchSite/diisprobeps", '-section:system.webServer/defaultDocument', '/delete:true', '/commit:apphost'),
    @('delete', 'site', $PreSwitchSite),
    @('delete', 'site', $Site),
    @('delete', 'apppool', $Pool),
    @('delete', 'apppool', $Pool2),
    @('delete', 'apppool', $Pool3),
    @('set', 'config', '-section:system.webServer/fastCgi', "/-$FcgiKey", '/commit:apphost'),
    @('delete', 'backup', $Backup),
    @('delete', 'backup', "$Tag-bkfolder")
  )
  foreach ($argv in $steps) { Invoke-Appcmd $argv | Out-Null }
  try {
    # The junction first, by itself: a recursive delete must never walk into the shared folder through it.
    $link = Join-Path $Root 'diisprobe-media'
    if (Test-Path $link) { [IO.Directory]::Delete($link) }
    if (Test-Path $SharedMediaTarget) { Remove-Item -Recurse -Force $SharedMediaTarget }
    if (Test-Path $Root) { Remove-Item -Recurse -Force $Root }
    if (Select-String -Path $ApphostConfig -SimpleMatch -Pattern $Tag -Quiet) {
      Write-Warning "applicationHost.config still mentions $Tag (an empty <location> or an unlock entry); remove it by hand"
    }
  } catch { Write-Warning "clean-up: $($_.Exception.Message)" }
}

$fatal = $null
if (-not (Test-Path $Appcmd)) { $fatal = "appcmd not found at $Appcmd" }
elseif (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { $fatal = 'not elevated' }
if (-not $fatal) {
  try { Invoke-Checks } catch { $fatal = "probe stopped: $($_.Exception.Message)" }
  finally { Remove-ProbeObjects }
}

$results = @()
foreach ($p in $Expectations.PSObject.Properties) {
  $id = $p.Name
  $expect = $p.Value
  $obs = $Observed[$id]
  if ($null -eq $obs -and $fatal) { $obs = @{ skipped = $fatal } }
  $v = Get-Verdict $expect $obs
  $seen = Format-Seen $obs
  $line = "$($v.verdict) ${id}: saw $seen ($($v.form)); action assumes $($expect.assumes)"
  Write-Output $line
  $results += [ordered]@{ id = $id; fact = $expect.fact; verdict = $v.verdict; form = $v.form; runs = $expect.runs; assumes = $expect.assumes; observed = $obs }
}
[ordered]@{ tag = $Tag; disruptive = [bool]$Disruptive; fatal = $fatal; results = $results } | ConvertTo-Json -Depth 6 | Set-Content -Path $OutFile -Encoding utf8
Write-Output "wrote $OutFile"
