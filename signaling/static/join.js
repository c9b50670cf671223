// mockline join page: consent → mic check → WebRTC call with live captions → finished.
// No framework; the server is the source of truth for the interview (see signaling/_events.py).
// Two transports, same page: our aiortc peer (POST offerUrl, events on a data channel) or, when the server
// runs in LiveKit room mode (config.livekitJoinUrl), a LiveKit room via the vendored livekit-client
// (captions from the standard lk.transcription text streams, agent state from lk.agent.state).
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("join-config").textContent);
  const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const $ = (id) => document.getElementById(id);

  // Observable state, also read by the browser end-to-end test.
  const probe = (window.mocklineJoin = {
    step: "consent", connectionStates: [], captions: [], events: 0,
    micLevelMax: 0, remoteLevelMax: 0, ended: null, error: null, sessionId: null, reconnects: 0,
    serverMuted: false, agentStates: [], progress: [], holds: [], remoteLevel: 0,
  });

  let micStream = null, camStream = null, audioCtx = null, pc = null, channel = null;
  let room = null, micPublication = null; // LiveKit room mode
  let muted = false, ended = false, reconnecting = false, attempts = 0;
  const MAX_RECONNECTS = 5;

  function show(step) {
    for (const s of document.querySelectorAll(".step")) s.hidden = s.id !== "step-" + step;
    probe.step = step;
    const heading = document.querySelector("#step-" + step + " h1, #step-" + step + " h2");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }

  function setStatus(text) { $("status").textContent = text; }

  // -- consent ---------------------------------------------------------------------------------------
  $("consent").addEventListener("change", (e) => { $("consent-continue").disabled = !e.target.checked; });
  $("consent-continue").addEventListener("click", () => { show("mic"); startMic(); });

  // -- microphone check --------------------------------------------------------------------------------
  function level(analyser, buf) {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
    return Math.sqrt(sum / buf.length);
  }

  function meter(stream, el, onLevel) {
    audioCtx = audioCtx || new AudioContext();
    const analyser = audioCtx.createAnalyser();
    analyser.fftSize = 1024;
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    const fill = el && el.querySelector(".meter-fill");
    const timer = setInterval(() => {
      const rms = level(analyser, buf);
      const pct = Math.min(100, Math.round(Math.sqrt(rms) * 160));
      if (fill) fill.style.width = pct + "%";
      if (el && el.getAttribute("role") === "meter") el.setAttribute("aria-valuenow", String(pct));
      onLevel(rms);
    }, 50);
    return () => clearInterval(timer);
  }

  const MIC_ERRORS = {
    NotAllowedError: "Microphone access was blocked. Allow the microphone for this site (the icon in the " +
      "address bar), then press “Try the microphone again”.",
    NotFoundError: "We could not find a microphone. Plug one in or pick another device, then try again.",
    NotReadableError: "Your microphone is being used by another app. Close it, then try again.",
  };

  async function startMic() {
    $("mic-error").hidden = true;
    $("mic-retry").hidden = true;
    try {
      micStream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      const msg = MIC_ERRORS[err && err.name] || "We could not start your microphone (" + (err && err.name) + ").";
      $("mic-error").textContent = msg;
      $("mic-error").hidden = false;
      $("mic-retry").hidden = false;
      probe.error = "mic:" + (err && err.name);
      return;
    }
    meter(micStream, $("mic-meter"), (rms) => { probe.micLevelMax = Math.max(probe.micLevelMax, rms); });
    $("start").disabled = false;
  }
  $("mic-retry").addEventListener("click", startMic);

  $("camera-toggle").addEventListener("change", async (e) => {
    const previews = [$("preview"), $("preview-call")];
    if (e.target.checked) {
      try {
        camStream = await navigator.mediaDevices.getUserMedia({ video: true });
      } catch (err) {
        e.target.checked = false;
        $("mic-error").textContent = "The camera preview is not available (" + err.name + "). You can continue without it.";
        $("mic-error").hidden = false;
        return;
      }
      for (const v of previews) { v.srcObject = camStream; v.hidden = false; }
    } else {
      if (camStream) camStream.getTracks().forEach((t) => t.stop());
      camStream = null;
      for (const v of previews) { v.srcObject = null; v.hidden = true; }
    }
  });

  // -- the call ------------------------------------------------------------------------------------------
  $("start").addEventListener("click", () => {
    if (audioCtx && audioCtx.state === "suspended") audioCtx.resume();
    show("call");
    meter(micStream, $("you-meter"), () => {});
    if (config.livekitJoinUrl) connectRoom();
    else connect();
  });

  function waitForGathering(peer) {
    if (peer.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (peer.iceGatheringState === "complete") resolve(); };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000); // answer with what we have; the server gathers fully anyway
    });
  }

  async function connect() {
    setStatus(attempts ? "Reconnecting…" : "Connecting…");
    const peer = (pc = new RTCPeerConnection({ iceServers: config.iceServers || [] }));
    for (const track of micStream.getAudioTracks()) peer.addTrack(track, micStream);
    probe.sentKinds = peer.getSenders().map((sender) => sender.track && sender.track.kind);
    channel = peer.createDataChannel("events");
    channel.onmessage = (e) => onEvent(e.data);
    channel.onopen = () => {
      send({ type: "listener", mutes_on_hold: true }); // we silence the agent on "hold" (see hold())
      if (muted) send({ type: "mute", muted: true });
    };
    peer.ontrack = (e) => {
      const audio = $("remote-audio");
      audio.srcObject = e.streams[0] || new MediaStream([e.track]);
      audio.muted = false;
      audio.play().catch(() => {});
      meter(audio.srcObject, null, (rms) => {
        probe.remoteLevel = rms;
        probe.remoteLevelMax = Math.max(probe.remoteLevelMax, rms);
      });
    };
    peer.onconnectionstatechange = () => {
      probe.connectionStates.push(peer.connectionState);
      if (peer !== pc) return;
      if (peer.connectionState === "connected") { attempts = 0; reconnecting = false; setStatus("Connected"); }
      if (["failed", "disconnected", "closed"].includes(peer.connectionState)) lost();
    };
    try {
      await peer.setLocalDescription(await peer.createOffer());
      await waitForGathering(peer);
      const res = await fetch(config.offerUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        // After a drop, our old session id lets the server replace the stale connection at once.
        body: JSON.stringify({
          token, sdp: peer.localDescription.sdp, type: peer.localDescription.type,
          resume: probe.sessionId || undefined,
        }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) return refused(res.status, body);
      probe.sessionId = body.session_id;
      await peer.setRemoteDescription({ sdp: body.sdp, type: body.type });
    } catch (err) {
      probe.error = "connect:" + (err && err.name);
      lost();
    }
  }

  function refused(status, body) {
    probe.error = "http:" + status + ":" + (body.error || "");
    if (pc) pc.close();
    const retryable = status === 503 || (status === 409 && probe.sessionId);
    if (retryable && attempts < MAX_RECONNECTS) return retryLater(body.message || "The service is busy.",
      config.livekitJoinUrl ? connectRoom : connect);
    finish(null, body.message || "The interview could not be started (error " + status + ").");
  }

  function retryLater(message, again) {
    attempts += 1;
    setStatus(message + " Trying again…");
    setTimeout(again || connect, Math.min(15000, 1000 * 2 ** attempts));
  }

  function lost() {
    if (ended || reconnecting) return;
    reconnecting = true;
    if (pc) pc.close();
    if (attempts >= MAX_RECONNECTS) {
      return finish(null, "We lost the connection. Reopen this link within two minutes to continue where you left off.");
    }
    probe.reconnects += 1;
    attempts += 1;
    setStatus("Connection lost. Reconnecting…");
    setTimeout(() => { reconnecting = false; connect(); }, 1000 * attempts);
  }

  function send(msg) {
    if (channel && channel.readyState === "open") channel.send(JSON.stringify(msg));
  }

  // -- events from the server ------------------------------------------------------------------------
  const live = { agent: null, candidate: null }; // the <li> of each side's caption still being spoken

  function caption(speaker, text, final) {
    let li = live[speaker];
    if (!li) {
      li = document.createElement("li");
      li.className = "caption " + speaker;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = speaker === "agent" ? "Interviewer" : "You";
      const said = document.createElement("span");
      said.className = "text";
      li.append(who, said);
      $("captions").append(li);
      live[speaker] = li;
    }
    li.querySelector(".text").textContent = text;
    li.classList.toggle("interim", !final);
    if (final) {
      live[speaker] = null;
      probe.captions.push({ speaker, text });
    }
    li.scrollIntoView({ block: "nearest" });
  }

  function speaking(tile, label, state) {
    if (tile === "agent-tile" && state && probe.agentStates[probe.agentStates.length - 1] !== state) {
      probe.agentStates.push(state);
    }
    $(tile).dataset.speaking = String(state === "speaking");
    $(label).textContent = state || "";
  }

  function onEvent(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    probe.events += 1;
    if (msg.type === "caption") caption(msg.speaker, msg.text, msg.final);
    else if (msg.type === "state") {
      if (msg.agent) speaking("agent-tile", "agent-state", msg.agent);
      if (msg.user) speaking("you-tile", "you-state", msg.user);
    } else if (msg.type === "progress") {
      progress(msg);
    } else if (msg.type === "hold") {
      hold(msg.held === true);
    } else if (msg.type === "muted") {
      probe.serverMuted = msg.muted;
    } else if (msg.type === "history") {
      $("captions").replaceChildren();
      live.agent = live.candidate = null;
      for (const t of msg.turns || []) caption(t.speaker, t.text, true);
    } else if (msg.type === "ended") {
      if (msg.reason === "dropped" || msg.reason === "error") {
        finish(null, "The interview was interrupted on our side. Reopen this link in a minute to continue " +
          "where you left off.");
      } else finish(msg);
    }
  }

  // The server paused or interrupted the interviewer (the candidate started speaking): silence it now
  // instead of letting the ~100 ms in the browser's jitter buffer play out. The server takes that audio
  // back, so when the reply resumes (a cough, "mm-hmm") it goes on from what the candidate really heard.
  function hold(held) {
    $("remote-audio").muted = held;
    probe.holds.push(held);
  }

  // "Question 2 of 4" and the time left (agent/_progress.py): told after every reply the candidate heard;
  // between updates the page counts the time down itself.
  let timeLeftAt = null, timeTimer = null;

  function progress(p) {
    if (!p || typeof p.of !== "number" || typeof p.question !== "number") return;
    $("progress").hidden = false;
    const text = p.finished ? "All questions asked"
      : p.question > 0 ? "Question " + p.question + " of " + p.of
      : p.of + (p.of === 1 ? " question" : " questions");
    if ($("progress-question").textContent !== text) {
      $("progress-question").textContent = text; // aria-live: read out when the question changes
      probe.progress.push(text);
    }
    const bar = $("progress-bar");
    const done = p.finished ? p.of : Math.max(0, p.question - 1);
    bar.setAttribute("aria-valuemax", String(p.of));
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", text);
    bar.querySelector(".progress-fill").style.width = (p.of ? (100 * done) / p.of : 0) + "%";
    timeLeftAt = performance.now() + 1000 * Math.max(0, p.remaining_s || 0);
    tick();
    if (!timeTimer) timeTimer = setInterval(tick, 1000);
  }

  function tick() {
    const s = Math.max(0, Math.round((timeLeftAt - performance.now()) / 1000));
    const text = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    $("time-left").textContent = text;
    if (s === 0 && timeTimer) { clearInterval(timeTimer); timeTimer = null; }
  }

  function roomProgress(raw) {
    if (!raw) return;
    try { progress(JSON.parse(raw)); } catch { /* not ours */ }
  }

  // -- LiveKit room mode -----------------------------------------------------------------------------------
  // The server admits the candidate and sends the interviewer into the room; we join it with livekit-client.
  const END_REASON = "mockline.end_reason"; // set by the interviewer just before it leaves the room
  const PROGRESS = "mockline.progress"; // the interviewer's progress attribute (agent/_progress.py)
  let agentIdentity = null, myIdentity = null;
  probe.onTranscription = onTranscription; // lets the browser test feed lk.transcription streams

  async function connectRoom() {
    if (ended) return;
    setStatus(attempts ? "Reconnecting…" : "Connecting…");
    const LK = window.LivekitClient;
    if (!LK) return finish(null, "The interview page did not load completely. Reload the page to try again.");
    let res, body;
    try {
      res = await fetch(config.livekitJoinUrl, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }),
      });
      body = await res.json().catch(() => ({}));
    } catch (err) {
      probe.error = "connect:" + (err && err.name);
      return roomLost();
    }
    if (!res.ok) return refused(res.status, body);
    if (body.report_url) config.reportUrl = body.report_url;
    probe.room = body.room;
    myIdentity = body.identity;
    onEvent(JSON.stringify({ type: "history", turns: body.history || [] })); // resuming: what was said
    const r = (room = new LK.Room({ adaptiveStream: false, dynacast: false, disconnectOnPageLeave: true }));
    let joined = false; // failures while joining are handled where connect() rejects
    r.registerTextStreamHandler("lk.transcription", onTranscription);
    r.on(LK.RoomEvent.ConnectionStateChanged, (state) => {
      probe.connectionStates.push(state);
      if (r !== room) return;
      if (state === "connected") setStatus("Connected. The interviewer is joining…");
      else if (state === "reconnecting" || state === "signalReconnecting") setStatus("Connection lost. Reconnecting…");
    });
    r.on(LK.RoomEvent.TrackSubscribed, (track, _pub, participant) => {
      if (track.kind !== "audio") return;
      agentIdentity = participant.identity;
      // the interviewer may have been in the room before us: its state so far, not only later changes
      const state = participant.attributes && participant.attributes["lk.agent.state"];
      if (state) speaking("agent-tile", "agent-state", state);
      roomProgress(participant.attributes && participant.attributes[PROGRESS]);
      const audio = $("remote-audio");
      track.attach(audio);
      audio.play().catch(() => {});
      setStatus("Connected");
      meter(new MediaStream([track.mediaStreamTrack]), null,
        (rms) => { probe.remoteLevelMax = Math.max(probe.remoteLevelMax, rms); });
    });
    r.on(LK.RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
      if (participant.isLocal) return;
      probe.events += 1;
      if (changed["lk.agent.state"]) speaking("agent-tile", "agent-state", changed["lk.agent.state"]);
      if (changed[PROGRESS]) roomProgress(changed[PROGRESS]);
      if (changed[END_REASON]) roomEnded(changed[END_REASON]);
    });
    r.on(LK.RoomEvent.ParticipantDisconnected, (participant) => {
      if (agentIdentity && participant.identity === agentIdentity) {
        roomEnded(participant.attributes[END_REASON] || "dropped");
      }
    });
    r.on(LK.RoomEvent.ActiveSpeakersChanged, (speakers) => {
      const me = speakers.some((p) => p.isLocal);
      if (!muted) speaking("you-tile", "you-state", me ? "speaking" : "listening");
    });
    r.on(LK.RoomEvent.Disconnected, (reason) => {
      if (r !== room || ended || !joined) return;
      probe.error = "room:disconnected:" + reason;
      roomLost();
    });
    try {
      await r.connect(body.url, body.token, { autoSubscribe: true });
      joined = true;
      const [track] = micStream.getAudioTracks();
      micPublication = await r.localParticipant.publishTrack(track, {
        source: LK.Track.Source.Microphone, name: "microphone", dtx: true,
      });
      probe.sentKinds = ["audio"];
      if (muted) await micPublication.mute();
      attempts = 0;
    } catch (err) {
      probe.error = "room:" + (err && err.name) + ":" + (err && err.reason) + ":" + (err && err.status);
      room = null;
      r.disconnect().catch(() => {});
      if (err && err.reason === LK.ConnectionErrorReason.NotAllowed) {
        return finish(null, "The interview room did not accept this link. Reopen the link from your " +
          "invitation; if it keeps happening, contact the person who sent it.");
      }
      return roomLost();
    }
  }

  function roomLost() {
    if (ended || reconnecting) return;
    reconnecting = true;
    if (room) { const r = room; room = null; r.disconnect().catch(() => {}); }
    micPublication = null;
    if (attempts >= MAX_RECONNECTS) {
      return finish(null, "We could not connect to the interview room. Check your internet connection, " +
        "then reopen this link within two minutes to continue where you left off.");
    }
    probe.reconnects += 1;
    attempts += 1;
    setStatus("We could not reach the interview room. Trying again…");
    setTimeout(() => { reconnecting = false; connectRoom(); }, 1000 * attempts);
  }

  function roomEnded(reason) {
    if (ended) return;
    if (reason === "dropped" || reason === "error") {
      finish(null, "The interview was interrupted on our side. Reopen this link in a minute to continue " +
        "where you left off.");
    } else finish({ reason, mode: config.mode });
  }

  // lk.transcription: the candidate's own speech arrives as whole texts (lk.transcription_final tells the
  // last one of a turn); the interviewer's as one stream per reply, in pieces as it is spoken.
  async function onTranscription(reader, participantInfo) {
    const attrs = (reader.info && reader.info.attributes) || {};
    // the agent publishes the candidate's transcript on the candidate's behalf: sender identity = ours,
    // and it names the track it transcribed (our microphone's)
    const track = attrs["lk.transcribed_track_id"];
    const mine = participantInfo.identity === myIdentity ||
      Boolean(track && micPublication && track === micPublication.trackSid);
    try {
      if (mine) {
        const text = await reader.readAll();
        if (text.trim()) caption("candidate", text, attrs["lk.transcription_final"] === "true");
        return;
      }
      let text = "";
      for await (const chunk of reader) {
        text += chunk;
        caption("agent", text, false);
      }
      if (text.trim()) caption("agent", text, true);
    } catch (err) {
      probe.error = "captions:" + (err && err.name);
    }
  }

  // -- controls -------------------------------------------------------------------------------------------
  $("mute").addEventListener("click", () => {
    muted = !muted;
    for (const t of micStream.getAudioTracks()) t.enabled = !muted;
    $("mute").setAttribute("aria-pressed", String(muted));
    $("mute").textContent = muted ? "Unmute" : "Mute";
    $("you-state").textContent = muted ? "muted" : "listening";
    send({ type: "mute", muted });
    if (micPublication) (muted ? micPublication.mute() : micPublication.unmute()).catch(() => {});
  });

  // "End call" asks first: one stray tap must not finish an interview for good.
  $("end").addEventListener("click", () => {
    $("end-check").hidden = false;
    $("end-confirm").focus();
  });
  $("end-cancel").addEventListener("click", () => {
    $("end-check").hidden = true;
    $("end").focus();
  });
  $("end-confirm").addEventListener("click", () => {
    $("end-check").hidden = true;
    send({ type: "end" });
    finish({ reason: "hangup", mode: config.mode }); // in a room: leaving it is the hang-up
  });

  function finish(msg, problem) {
    if (ended) return;
    ended = true;
    probe.ended = msg ? msg.reason : "error";
    if (timeTimer) { clearInterval(timeTimer); timeTimer = null; }
    const detail = $("done-detail");
    const report = $("done-report");
    if (problem) {
      $("done-title").textContent = "The interview could not continue";
      detail.textContent = problem;
    } else if (msg.reason === "hangup") {
      detail.textContent = "You ended the interview. Thank you for your time.";
    } else {
      detail.textContent = "Thank you for your time. Your interview has been saved.";
    }
    if (!problem && (msg.mode || config.mode) === "practice") {
      const url = msg.report_url || config.reportUrl;
      if (url) {
        const a = document.createElement("a");
        a.href = url;
        a.textContent = "See your coaching report";
        report.append(a);
      } else {
        report.textContent = "Your coaching report is being prepared. It will be ready in a few minutes.";
      }
    } else if (!problem) {
      report.textContent = "The hiring team will be in touch about next steps.";
    }
    // Let the last data-channel bytes go out before hanging up.
    setTimeout(() => { if (pc) pc.close(); }, 300);
    if (room) room.disconnect().catch(() => {});
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    if (camStream) camStream.getTracks().forEach((t) => t.stop());
    show("done");
  }

  addEventListener("pagehide", () => { if (pc) pc.close(); if (room) room.disconnect(); });
})();
