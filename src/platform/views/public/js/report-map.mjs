// Street report maps: turns each [data-report-map] element into a Leaflet map (loaded before this
// module, as window.L). Pages work without it: every choice a map offers is also a search, a list or
// a link on the page. Attributes of the element:
//   data-mode          "pick-point" (choose a place), "pick-asset" (choose an asset) or "browse" (see reports)
//   data-label         the map's accessible name
//   data-lat, data-lng the place to show; without them, the whole area
//   data-asset-kind    the kind of asset to show (pick-asset); data-category limits the reports shown
//   data-features-url  where assets and reports come from (default /reports/map/features.geojson)
//   data-lat-input, data-lng-input, data-asset-input   ids of the hidden inputs a choice fills in
//   data-form          id of the form the choice belongs to: shown with the map; its
//                      [data-report-map-submit] button appears once something is chosen
//   data-tiles-url, data-tiles-attribution   a base map; without one the council's own boundary,
//                      wards and streets are drawn
// A [data-report-locate] button (with data-lat-input, data-lng-input and data-form) fills in the
// device's location and sends its form.

const L = window.L;
const BOUNDARY_URL = '/reports/map/boundary.geojson';
const STREETS_URL = '/reports/map/streets.geojson';
const FEATURES_URL = '/reports/map/features.geojson';
/** The server refuses boxes wider than 0.2 degrees; a larger view asks about its middle. */
const MAX_BOX_DEGREES = 0.19;
const STREETS_FROM_ZOOM = 14;
const STREET_NAMES_FROM_ZOOM = 16;
const ASSETS_FROM_ZOOM = 16;
/** Report markers whose centres are closer than this many pixels are grouped. */
const GROUP_PIXELS = 32;
const ASSET_STATES = [
  ['working', 'Working'],
  ['fault-reported', 'Fault reported'],
  ['under-maintenance', 'Under maintenance'],
];

const byId = (id) => (id ? document.getElementById(id) : null);
const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const stateName = (state) => ASSET_STATES.find(([code]) => code === state)?.[1] ?? capitalise(String(state).replace(/-/g, ' '));
const ago = (days) => (days === 0 ? 'today' : `${days} ${days === 1 ? 'day' : 'days'} ago`);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A marker drawn with CSS: the shape is its own element because Leaflet positions the icon with a transform. */
// 24 pixels: the smallest target WCAG 2.2 allows for something to press.
function shapeIcon(classes, label, size = 24, anchor) {
  const html = element('span');
  html.append(element('span', 'report-map__shape'));
  if (label) html.append(element('span', 'govuk-visually-hidden', label));
  return L.divIcon({ className: `report-map__marker ${classes}`, html, iconSize: [size, size], iconAnchor: anchor ?? [size / 2, size / 2] });
}

const pinIcon = () => shapeIcon('report-map__marker--pin', '', 26, [13, 30]);

/** Where to name a street: the middle of its points inside the view, so the name is on screen. */
function labelPoint(geometry, view) {
  const lines = geometry.type === 'MultiLineString' ? geometry.coordinates : [geometry.coordinates];
  const inside = lines.flat().filter(([lng, lat]) => view.contains([lat, lng]));
  const middle = inside[Math.floor(inside.length / 2)];
  return middle ? L.latLng(middle[1], middle[0]) : undefined;
}

/** The view's bounds as a bbox parameter, cut down around its middle to a box the server accepts. */
function bboxOf(map) {
  const bounds = map.getBounds();
  const centre = bounds.getCenter();
  const halfLng = Math.min(bounds.getEast() - bounds.getWest(), MAX_BOX_DEGREES) / 2;
  const halfLat = Math.min(bounds.getNorth() - bounds.getSouth(), MAX_BOX_DEGREES) / 2;
  return [centre.lng - halfLng, centre.lat - halfLat, centre.lng + halfLng, centre.lat + halfLat].map((n) => n.toFixed(6)).join(',');
}

async function getJson(url, signal) {
  const response = await fetch(url, { headers: { accept: 'application/geo+json, application/json' }, signal });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

function legend(items) {
  const wrapper = element('div', 'report-map__legend');
  wrapper.append(element('p', 'govuk-body-s govuk-!-font-weight-bold govuk-!-margin-bottom-1', 'Key'));
  const list = element('ul', 'govuk-list govuk-body-s');
  for (const [classes, text] of items) {
    const item = element('li');
    const swatch = element('span', `report-map__swatch ${classes}`);
    swatch.setAttribute('aria-hidden', 'true');
    swatch.append(element('span', 'report-map__shape'));
    item.append(swatch, text);
    list.append(item);
  }
  wrapper.append(list);
  return wrapper;
}

/** Runs a refresh when the map stops moving, cancelling any earlier one still waiting for the server. */
function refresher(run, onError) {
  let controller;
  return () => {
    controller?.abort();
    controller = new AbortController();
    run(controller.signal).catch((error) => {
      if (error.name !== 'AbortError') onError();
    });
  };
}

async function setUp(container) {
  const mode = container.dataset.mode || 'browse';
  const form = byId(container.dataset.form);
  const latInput = byId(container.dataset.latInput);
  const lngInput = byId(container.dataset.lngInput);
  const assetInput = byId(container.dataset.assetInput);
  const submit = form?.querySelector('[data-report-map-submit]');
  const tilesUrl = container.dataset.tilesUrl;

  const canvas = element('div', `report-map__canvas${tilesUrl ? '' : ' report-map__canvas--plain'}`);
  canvas.setAttribute('role', 'region');
  canvas.setAttribute('aria-label', container.dataset.label || 'Map');
  const status = element('p', 'govuk-body-s report-map__status');
  status.setAttribute('role', 'status');
  const say = (text) => {
    status.textContent = text;
  };
  // Tabbing through every marker is slow: a skip link goes past the map to what follows it.
  const end = element('div', 'report-map__end');
  end.id = `${container.id || 'report-map'}-end`;
  end.tabIndex = -1;
  const skip = element('a', 'govuk-skip-link', 'Skip the map');
  skip.href = `#${end.id}`;
  container.append(skip, canvas, status, end);
  container.hidden = false;
  if (form) form.hidden = false;

  const boundary = await getJson(BOUNDARY_URL);
  const map = L.map(canvas, { minZoom: 11, maxZoom: 19, zoomSnap: 1 });
  if (tilesUrl) L.tileLayer(tilesUrl, { attribution: container.dataset.tilesAttribution || '', maxZoom: 19 }).addTo(map);
  L.geoJSON(boundary, {
    interactive: false,
    style: (feature) =>
      feature.properties.kind === 'boundary'
        ? { className: 'report-map__boundary', color: '#0b0c0c', weight: 3, fill: !tilesUrl, fillColor: '#ffffff', fillOpacity: 1 }
        : { className: 'report-map__ward', color: '#505a5f', weight: 1, dashArray: '4 6', fill: false },
  }).addTo(map);

  const lat = Number.parseFloat(container.dataset.lat ?? '');
  const lng = Number.parseFloat(container.dataset.lng ?? '');
  const point = Number.isFinite(lat) && Number.isFinite(lng) ? L.latLng(lat, lng) : undefined;
  if (point) map.setView(point, mode === 'pick-asset' ? 18 : 17);
  else if (boundary.bbox) {
    const [west, south, east, north] = boundary.bbox;
    map.fitBounds([
      [south, west],
      [north, east],
    ]);
  } else map.setView([0, 0], 2);

  if (!tilesUrl) {
    const streets = L.geoJSON(null, { interactive: false, style: { className: 'report-map__street', color: '#b1b4b6', weight: 5 } }).addTo(map);
    const names = L.layerGroup().addTo(map);
    const refreshStreets = refresher(
      async (signal) => {
        if (map.getZoom() < STREETS_FROM_ZOOM) {
          streets.clearLayers();
          return names.clearLayers();
        }
        const data = await getJson(`${STREETS_URL}?bbox=${bboxOf(map)}`, signal);
        streets.clearLayers();
        names.clearLayers();
        streets.addData(data);
        if (map.getZoom() < STREET_NAMES_FROM_ZOOM) return;
        const view = map.getBounds().pad(-0.1);
        for (const feature of data.features) {
          const label = labelPoint(feature.geometry, view);
          if (label)
            names.addLayer(
              L.tooltip({ permanent: true, direction: 'center', className: 'report-map__street-name' }).setLatLng(label).setContent(feature.properties.name),
            );
        }
      },
      () => say('The streets could not be shown. Try moving the map again.'),
    );
    map.on('moveend', refreshStreets);
    refreshStreets();
  }

  const pick = (text) => {
    if (submit) submit.hidden = false;
    say(text);
  };

  if (mode === 'pick-point') {
    let pin = point ? L.marker(point, { icon: pinIcon(), interactive: false, keyboard: false }).addTo(map) : undefined;
    const choose = (latlng) => {
      if (latInput) latInput.value = latlng.lat.toFixed(6);
      if (lngInput) lngInput.value = latlng.lng.toFixed(6);
      if (pin) pin.setLatLng(latlng);
      else pin = L.marker(latlng, { icon: pinIcon(), interactive: false, keyboard: false }).addTo(map);
      pick(`You chose a place on the map.${submit ? ` Select ‘${submit.textContent.trim()}’ to go on.` : ''}`);
    };
    map.on('click', (event) => choose(event.latlng));
    const crosshair = element('div', 'report-map__crosshair');
    crosshair.setAttribute('aria-hidden', 'true');
    canvas.append(crosshair);
    canvas.addEventListener('keydown', (event) => {
      if (event.target !== canvas || (event.key !== 'Enter' && event.key !== ' ')) return;
      event.preventDefault();
      choose(map.getCenter());
    });
    return;
  }

  const features = L.layerGroup().addTo(map);
  const assetMarkers = new Map();
  let selected = form?.querySelector('input[type="radio"]:checked')?.value;
  const highlight = (id) => {
    selected = id;
    for (const [markerId, marker] of assetMarkers) marker.getElement()?.classList.toggle('report-map__marker--selected', markerId === id);
  };

  const chooseAsset = (id, position, label) => {
    const radio = form ? [...form.querySelectorAll('input[type="radio"]')].find((input) => input.value === id) : undefined;
    if (radio) {
      radio.checked = true;
      if (assetInput) assetInput.value = '';
    } else {
      for (const input of form?.querySelectorAll('input[type="radio"]') ?? []) input.checked = false;
      if (assetInput) assetInput.value = id;
      if (latInput) latInput.value = position.lat.toFixed(6);
      if (lngInput) lngInput.value = position.lng.toFixed(6);
    }
    highlight(id);
    pick(`You selected ${label}.${submit ? ` Select ‘${submit.textContent.trim()}’ to go on.` : ''}`);
  };
  form?.addEventListener('change', (event) => {
    if (!(event.target instanceof HTMLInputElement) || event.target.type !== 'radio') return;
    if (assetInput) assetInput.value = '';
    highlight(event.target.value);
  });

  const addAsset = (position, properties) => {
    const label = `${capitalise(properties.kindName)} ${properties.id}, ${stateName(properties.state).toLowerCase()}`;
    const classes = `report-map__marker--${properties.state}${properties.id === selected ? ' report-map__marker--selected' : ''}`;
    const marker = L.marker(position, { icon: shapeIcon(classes, label), title: label, keyboard: true, riseOnHover: true });
    marker.on('click', () => chooseAsset(properties.id, position, label));
    marker.on('add', () =>
      marker.getElement()?.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        chooseAsset(properties.id, position, label);
      }),
    );
    assetMarkers.set(properties.id, marker);
    features.addLayer(marker);
  };

  const addReport = (position, properties) => {
    const label = `${properties.category}: ${properties.statusName}, reported ${ago(properties.ageDays)}`;
    const marker = L.marker(position, {
      icon: shapeIcon(`report-map__marker--report${properties.closed ? ' report-map__marker--closed' : ''}`, label),
      title: label,
      keyboard: true,
    });
    marker.bindPopup(() => {
      const content = element('div');
      const link = element('a', 'govuk-link', `${properties.category} (${properties.reference})`);
      link.href = properties.url;
      content.append(
        link,
        element('p', 'govuk-body-s govuk-!-margin-0', `Status: ${properties.statusName}`),
        element('p', 'govuk-body-s govuk-!-margin-0', `Reported ${ago(properties.ageDays)}, last updated ${ago(properties.updatedDays)}`),
      );
      return content;
    });
    features.addLayer(marker);
  };

  // Reports closer than a marker's width are drawn as one numbered marker, so no two targets overlap.
  const addGroup = (reports) => {
    // Drawn where the group's first report is, which is what the spacing between groups was measured from.
    const { position } = reports[0];
    const label = `${reports.length} reports here`;
    const icon = L.divIcon({
      className: 'report-map__marker report-map__marker--group',
      html: `<span class="report-map__shape" aria-hidden="true">${reports.length}</span><span class="govuk-visually-hidden">${label}</span>`,
      iconSize: [28, 28],
      iconAnchor: [14, 14],
    });
    const marker = L.marker(position, { icon, title: label, keyboard: true });
    marker.bindPopup(() => {
      const list = element('ul', 'govuk-list govuk-!-margin-0');
      for (const { properties } of reports.slice(0, 10)) {
        const item = element('li', 'govuk-body-s govuk-!-margin-bottom-1');
        const link = element('a', 'govuk-link', `${properties.category} (${properties.reference})`);
        link.href = properties.url;
        item.append(link, ` ${properties.statusName}, reported ${ago(properties.ageDays)}`);
        list.append(item);
      }
      if (reports.length > 10) list.append(element('li', 'govuk-body-s', `and ${reports.length - 10} more: zoom in to see them`));
      return list;
    });
    features.addLayer(marker);
  };

  const addReports = (reports) => {
    const groups = [];
    for (const report of reports) {
      const at = map.latLngToLayerPoint(report.position);
      const near = groups.find((group) => group.at.distanceTo(at) < GROUP_PIXELS);
      if (near) near.reports.push(report);
      else groups.push({ at, reports: [report] });
    }
    for (const group of groups) {
      if (group.reports.length === 1) addReport(group.reports[0].position, group.reports[0].properties);
      else addGroup(group.reports);
    }
  };

  if (mode === 'pick-asset') {
    if (point) L.marker(point, { icon: pinIcon(), interactive: false, keyboard: false }).addTo(map);
    end.before(legend([...ASSET_STATES.map(([code, text]) => [`report-map__marker--${code}`, text]), ['report-map__marker--pin', 'The place you chose']]));
  } else
    end.before(
      legend([
        ['report-map__marker--report', 'Open report'],
        ['report-map__marker--report report-map__marker--closed', 'Fixed or closed report'],
        ['report-map__marker--group', 'Reports close together: the number says how many'],
      ]),
    );

  const refreshFeatures = refresher(
    async (signal) => {
      if (mode === 'pick-asset' && map.getZoom() < ASSETS_FROM_ZOOM) {
        features.clearLayers();
        assetMarkers.clear();
        return say('Zoom in to see them.');
      }
      const url = new URL(container.dataset.featuresUrl || FEATURES_URL, document.baseURI);
      url.searchParams.set('bbox', bboxOf(map));
      if (container.dataset.assetKind) url.searchParams.set('asset_kind', container.dataset.assetKind);
      if (container.dataset.category) url.searchParams.set('category', container.dataset.category);
      const data = await getJson(url.href, signal);
      features.clearLayers();
      assetMarkers.clear();
      const reports = [];
      for (const feature of data.features) {
        const [featureLng, featureLat] = feature.geometry.coordinates;
        const position = L.latLng(featureLat, featureLng);
        if (feature.properties.type === 'asset' && mode === 'pick-asset') addAsset(position, feature.properties);
        if (feature.properties.type === 'report' && mode === 'browse') reports.push({ position, properties: feature.properties });
      }
      addReports(reports);
      if (data.truncated) say('Not everything here is shown: zoom in to see it all.');
    },
    () => say('What is on the map could not be shown. Try moving the map again, or use the list on this page.'),
  );
  map.on('moveend', refreshFeatures);
  refreshFeatures();
}

for (const container of document.querySelectorAll('[data-report-map]')) {
  setUp(container).catch(() => {
    container.hidden = false;
    const message = element('p', 'govuk-body', 'The map could not be shown. Use the search or the list on this page instead.');
    container.replaceChildren(message);
  });
}

for (const button of document.querySelectorAll('[data-report-locate]')) {
  const form = byId(button.dataset.form);
  if (!form || !('geolocation' in navigator)) continue;
  const message = element('p', 'govuk-body-s');
  message.setAttribute('role', 'status');
  (button.closest('.govuk-button-group') ?? button).after(message);
  button.hidden = false;
  form.hidden = false;
  button.addEventListener('click', () => {
    message.textContent = 'Finding where you are…';
    navigator.geolocation.getCurrentPosition(
      (position) => {
        byId(button.dataset.latInput).value = position.coords.latitude.toFixed(6);
        byId(button.dataset.lngInput).value = position.coords.longitude.toFixed(6);
        form.requestSubmit();
      },
      () => {
        message.textContent = 'We could not find where you are. Choose the place on the map or search for it.';
      },
      { enableHighAccuracy: true, timeout: 15000 },
    );
  });
}
