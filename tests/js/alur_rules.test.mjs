// Unit tests of each bpmnlint-plugin-alur rule (node --test): a conforming diagram has no
// problem, and each careless or hostile variant is reported at the right element.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ROOT, lintXml } from './alur_lint.mjs';

const KNOWN = ['sop_a', 'sop_pengiriman_surat_dokumen'];

// A small SOP: start -> Step_01 (lane A) -> review Step_02 (lane B) -> gateway -> Ya: end, Tidak: Step_01.
function sop({ step1 = '', step1Type = 'userTask', step1Attrs = '', review = '<alur:review/>',
  mutu2 = '<alur:mutuBaku waktu="PT30M" waktuText="30 menit"/>', laneA = ['Step_01'], laneB = ['Step_02', 'Gateway_Step_02'],
  tidak = 'Tidak', tidakCondition = 'keputusan == "tidak"', extra = '', gatewayName = 'Setuju?' } = {}) {
  const refs = (ids) => ids.map((id) => `<bpmn:flowNodeRef>${id}</bpmn:flowNodeRef>`).join('');
  const mutu1 = step1 || '<alur:mutuBaku waktu="P1D" waktuText="1 hari"/>';
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:alur="http://alur.dev/schema/bpmn/sop/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="t">
  <bpmn:process id="sop_a" name="SOP A" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_A" name="Staf">${refs(['StartEvent_1', ...laneA])}</bpmn:lane>
      <bpmn:lane id="Lane_B" name="Kasubag">${refs([...laneB, 'EndEvent_1'])}</bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="Mulai"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:${step1Type} id="Step_01" name="Susun laporan" ${step1Attrs}><bpmn:extensionElements>${mutu1}</bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F_Tidak</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:${step1Type}>
    <bpmn:userTask id="Step_02" name="Periksa laporan"><bpmn:extensionElements>${mutu2}${review}</bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_Step_02" name="${gatewayName}"><bpmn:incoming>F3</bpmn:incoming>
      <bpmn:outgoing>F_Ya</bpmn:outgoing><bpmn:outgoing>F_Tidak</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>F_Ya</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Step_01"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Step_01" targetRef="Step_02"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Step_02" targetRef="Gateway_Step_02"/>
    <bpmn:sequenceFlow id="F_Ya" name="Ya" sourceRef="Gateway_Step_02" targetRef="EndEvent_1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">keputusan == "setuju"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_Tidak" name="${tidak}" sourceRef="Gateway_Step_02" targetRef="Step_01">${tidakCondition
    ? `<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${tidakCondition}</bpmn:conditionExpression>` : ''}</bpmn:sequenceFlow>
    ${extra}
  </bpmn:process>
</bpmn:definitions>`;
}

async function alurProblems(xml) {
  // bpmnlint's own "no-bpmndi" fires on these DI-less fixtures; the Alur rules are under test.
  return (await lintXml(xml, KNOWN)).filter((p) => p.rule.startsWith('alur/') || p.rule === 'import');
}

test('a conforming SOP has no Alur problem', async () => {
  assert.deepEqual(await alurProblems(sop()), []);
});

test('user-task-in-lane: a step outside every lane, and a step in two lanes', async () => {
  let problems = await alurProblems(sop({ laneA: [] }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/user-task-in-lane', 'Step_01']]);
  problems = await alurProblems(sop({ laneB: ['Step_02', 'Gateway_Step_02', 'Step_01'] }));
  assert.match(problems[0].message, /2 lajur/);
});

test('review-gateway: names, conditions and the gateway itself', async () => {
  let problems = await alurProblems(sop({ tidak: 'Kembali' }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/review-gateway', 'Gateway_Step_02']]);
  problems = await alurProblems(sop({ tidakCondition: '' }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/review-gateway', 'F_Tidak']]);
  problems = await alurProblems(sop({ extra: '<bpmn:sequenceFlow id="F9" sourceRef="Step_02" targetRef="EndEvent_1"/>' })
    .replace('<bpmn:outgoing>F3</bpmn:outgoing>', '<bpmn:outgoing>F3</bpmn:outgoing><bpmn:outgoing>F9</bpmn:outgoing>'));
  assert.ok(problems.some((p) => p.rule === 'alur/review-gateway' && p.id === 'Step_02'));
});

test('waktu: missing, unparsable, months, zero, and disagreeing with the source text', async () => {
  const cases = {
    '': /belum diisi/,
    '<alur:mutuBaku kelengkapan="x"/>': /belum diisi/,
    '<alur:mutuBaku waktu="30 menit" waktuText="30 menit"/>': /bukan durasi/,
    '<alur:mutuBaku waktu="P1M" waktuText="1 bulan"/>': /bukan durasi/,
    '<alur:mutuBaku waktu="PT0M" waktuText="0 menit"/>': /bukan durasi/,
    '<alur:mutuBaku waktu="PT1H30M"/>': /bukan durasi/,
    '<alur:mutuBaku waktu="PT45M" waktuText="30 menit"/>': /tidak sama/,
  };
  for (const [mutu, pattern] of Object.entries(cases)) {
    const problems = await alurProblems(sop({ mutu2: mutu }));
    assert.equal(problems.length, 1, mutu);
    assert.equal(problems[0].rule, 'alur/waktu', mutu);
    assert.equal(problems[0].id, 'Step_02', mutu);
    assert.match(problems[0].message, pattern, mutu);
  }
  assert.deepEqual(await alurProblems(sop({ mutu2: '<alur:mutuBaku/>' })), [], 'an empty source row is accepted');
  assert.deepEqual(await alurProblems(sop({ mutu2: '<alur:mutuBaku waktu="P2W" waktuText="2 Minggu"/>' })), []);
});

test('called-sop-known: unknown and missing calledElement', async () => {
  let problems = await alurProblems(sop({ step1Type: 'callActivity', step1Attrs: 'calledElement="sop_tidak_ada"' }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/called-sop-known', 'Step_01']]);
  problems = await alurProblems(sop({ step1Type: 'callActivity' }));
  assert.match(problems[0].message, /belum memilih/);
  assert.deepEqual(await alurProblems(sop({ step1Type: 'callActivity', step1Attrs: 'calledElement="sop_pengiriman_surat_dokumen"' })), []);
});

test('engine-support: script task, plain task, timer event, inclusive gateway', async () => {
  let problems = await alurProblems(sop({ step1Type: 'scriptTask' }));
  assert.ok(problems.some((p) => p.rule === 'alur/engine-support' && p.id === 'Step_01'));
  problems = await alurProblems(sop({ step1Type: 'task' }));
  assert.ok(problems.some((p) => p.rule === 'alur/engine-support' && /User Task/.test(p.message)));
  problems = await alurProblems(sop({ extra: '<bpmn:startEvent id="Timer_1" name="Tiap hari"><bpmn:timerEventDefinition id="T"/></bpmn:startEvent><bpmn:inclusiveGateway id="Inc_1" name="x"/>' }));
  assert.deepEqual(problems.filter((p) => p.rule === 'alur/engine-support').map((p) => p.id).sort(), ['Inc_1', 'Timer_1']);
  // Issue 8: the worker runs intermediate timer catch events and boundary timers on user tasks.
  problems = await alurProblems(sop({ extra: '<bpmn:intermediateCatchEvent id="Wait_1" name="Tunggu"><bpmn:timerEventDefinition id="T2"/></bpmn:intermediateCatchEvent><bpmn:boundaryEvent id="Late_1" name="Lewat" attachedToRef="Step_01"><bpmn:timerEventDefinition id="T3"/></bpmn:boundaryEvent>' }));
  assert.deepEqual(problems.filter((p) => p.rule === 'alur/engine-support').map((p) => p.id), []);
});

test('foreign-extensions: camunda extensions are reported as warnings, not errors', async () => {
  const problems = await alurProblems(sop({ step1: '<alur:mutuBaku waktu="P1D" waktuText="1 hari"/><camunda:properties><camunda:property name="a" value="b"/></camunda:properties>',
    step1Attrs: 'camunda:assignee="x"' }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id, p.category]), [['alur/foreign-extensions', 'Step_01', 'warn']]);
});

test('step-label: unnamed task and gateway, and a label over 40 characters', async () => {
  let problems = await alurProblems(sop({ gatewayName: '' }));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/step-label', 'Gateway_Step_02']]);
  problems = await alurProblems(sop().replace('name="Susun laporan"', `name="${'x'.repeat(41)}"`));
  assert.deepEqual(problems.map((p) => [p.rule, p.id]), [['alur/step-label', 'Step_01']]);
});

test('every diagram in bpmn/ has zero problems with the full rule set', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = join(ROOT, 'bpmn');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bpmn'));
  const known = files.map((f) => f.replace(/\.bpmn$/, ''));
  for (const file of files) {
    assert.deepEqual(await lintXml(readFileSync(join(dir, file), 'utf8'), known), [], file);
  }
});
